import type { Handler } from './context.ts';
import { json } from './http.ts';

// GET /settings, /health and /.well-known/jwks.json.

const OAUTH_PROVIDERS = [
  'apple',
  'azure',
  'bitbucket',
  'discord',
  'facebook',
  'snapchat',
  'figma',
  'fly',
  'github',
  'gitlab',
  'google',
  'keycloak',
  'kakao',
  'linkedin',
  'linkedin_oidc',
  'notion',
  'spotify',
  'slack',
  'slack_oidc',
  'workos',
  'twitch',
  'twitter',
  'zoom',
];

export const settings: Handler = async (_request, { config }) =>
  json({
    external: {
      anonymous_users: config.anonymousEnabled,
      ...Object.fromEntries(OAUTH_PROVIDERS.map((provider) => [provider, false])),
      email: config.emailEnabled,
      phone: false,
    },
    disable_signup: !config.signupEnabled,
    mailer_autoconfirm: config.mailerAutoconfirm,
    phone_autoconfirm: false,
    sms_provider: '',
    saml_enabled: false,
    saml_private_key_next_configured: false,
    passkeys_enabled: false,
  });

export const health: Handler = async () =>
  json({
    version: 'parley-local',
    name: 'GoTrue',
    description: 'GoTrue is a user registration and authentication API',
  });

// The stack signs with one HS256 secret, and GoTrue never publishes symmetric keys, so the set is
// empty; clients then verify tokens through GET /user, as auth-js's getClaims() does for HS256.
export const jwks: Handler = async () => {
  const response = json({ keys: [] });
  response.headers.set('Cache-Control', 'public, max-age=600');
  return response;
};
