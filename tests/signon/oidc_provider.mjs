// A real OpenID provider for the tests (panva's oidc-provider, installed by `npm ci` as a
// development dependency), listening on loopback. Its configuration comes as JSON in
// OIDC_TEST_CONFIG: { port, client_id, client_secret, redirect_uris, accounts: {id: claims} }.
// The built-in development log-in and consent pages stand in for a company's own: any
// account id of `accounts` logs in with any password.
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_CONFIG);
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
  cookies: { keys: ['only-for-the-tests'] },
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
