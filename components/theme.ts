/** The console theme cookie, read by the root layout on the server and written by the theme switch. */
export const THEME_COOKIE = "theme";
export type Theme = "system" | "light" | "dark";
