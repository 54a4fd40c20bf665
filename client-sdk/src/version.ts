export const SDK_NAME = '@splatcast/client-sdk';
export const SDK_VERSION = '0.1.0';
