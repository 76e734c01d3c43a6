/** Notifications: the run summary, who hears of which event, what each kind sends. */
export * from "./summary.ts";
export * from "./route.ts";
export type { NotifySender } from "./ports.ts";
