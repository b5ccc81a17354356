// Replaced by the database-backed global setup in the job-store work.
export default function setup(): void {}
