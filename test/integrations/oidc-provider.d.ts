// oidc-provider ships no types; the tests only construct it and mount its callback.
declare module "oidc-provider";
