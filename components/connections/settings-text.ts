/** The saved secret's last four characters, quoted so a fragment like tion reads as characters, not a word. */
export function savedSecretHint(noun: "key" | "secret", last4: string | null | undefined, canWrite: boolean) {
  const saved = last4 ? `A ${noun} ending in “${last4}” is saved.` : `A ${noun} is saved.`;
  return canWrite ? `${saved} Type a new one to replace it.` : saved;
}

/** The test's message may open with the words the alert's title already says: say them once. */
export function withoutRepeatedTitle(message: string, title: string): string {
  if (!message.startsWith(title)) return message;
  const rest = message.slice(title.length).replace(/^[\s:.,—-]+/, "");
  return rest ? rest.charAt(0).toUpperCase() + rest.slice(1) : message;
}
