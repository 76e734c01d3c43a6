/** The hooks SDK version. A module declares the major it was written for; stowage refuses other majors. */
export const SDK_VERSION = "1.1.0";
export const SDK_MAJOR = 1;
