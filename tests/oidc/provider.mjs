// A real OpenID Connect provider for Kongjian's single sign-on tests (server/tests/it/sso.rs).
//
//   node provider.mjs PORT REDIRECT_URI... [--id-token-claims]
//
// Listens on 127.0.0.1:PORT (0 picks a free port) with issuer http://127.0.0.1:PORT and prints
// `listening http://127.0.0.1:PORT` once ready. One confidential client, `kongjian` with secret
// `kongjian-test-secret`, PKCE required. The built-in development login accepts any login name
// and any password; the account's claims are `sub` and `preferred_username` = the login name
// and the custom `school_uid` = "uid-" + the login name, released with scope `openid profile`.
// By default those profile claims come from userinfo only (as the spec says for the code flow);
// `--id-token-claims` puts them in the ID token too.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const args = process.argv.slice(2);
const idTokenClaims = args.includes('--id-token-claims');
const [port = '0', ...redirectUris] = args.filter((a) => !a.startsWith('--'));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const configuration = {
  clients: [{
    client_id: 'kongjian',
    client_secret: 'kongjian-test-secret',
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name', 'school_uid'],
  },
  conformIdTokenClaims: !idTokenClaims,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['kongjian-test-cookie-key'] },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id, school_uid: `uid-${id}` };
      },
    };
  },
};

const server = createServer();
server.listen(Number(port), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});
