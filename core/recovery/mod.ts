/** Disaster-recovery bundles: what goes in, how it is laid out, checked and rotated. */
export * from "./format.ts";
export * from "./names.ts";
export * from "./manifest.ts";
export * from "./install_plan.ts";
export * from "./plan.ts";
export * from "./password.ts";
export * from "./read.ts";
export * from "./units.ts";
export * from "./write.ts";
export { renderReadme, renderRecoverScript } from "./templates.ts";
