// Keycloak's official admin client (@keycloak/keycloak-admin-client) against keywarden's admin
// REST API, in both URL layouts: baseUrl http://127.0.0.1:PORT (Keycloak 17+) and
// http://127.0.0.1:PORT/auth (Keycloak <= 16).
//
// Tests named "[incompat] ..." prove a known keywarden incompatibility; they FAIL until the
// server is fixed, and their comment says what the library expects.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import KcAdminClient, { NetworkError } from "@keycloak/keycloak-admin-client";

import { LAYOUTS, startServer, unique } from "./server.js";

let server;
before(async () => {
  server = await startServer("node-admin");
});
after(async () => {
  await server?.stop();
});

async function signedIn(layout, realmName = "master") {
  const kc = new KcAdminClient({ baseUrl: server.base(layout), realmName: "master" });
  await kc.auth({
    username: "admin",
    password: "admin",
    grantType: "password",
    clientId: "admin-cli",
  });
  kc.setConfig({ realmName });
  return kc;
}

async function passwordToken(layout, realm, username, password, clientId = "admin-cli") {
  const res = await fetch(`${server.base(layout)}/realms/${realm}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", client_id: clientId, username, password }),
  });
  return { status: res.status, body: await res.json() };
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

/** A NetworkError's message gains the request's URL and status (the library only says "Not Found"). */
function annotate(err) {
  if (err instanceof NetworkError && err.response && !err.annotated) {
    err.annotated = true;
    const body = typeof err.responseData === "string" ? err.responseData : JSON.stringify(err.responseData);
    err.message = `${err.message}: ${err.response.status} from ${err.response.url} ${body}`;
  }
  return err;
}

async function rejects409(promise, message) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof NetworkError, `expected a NetworkError, got ${err}`);
    assert.equal(err.response.status, 409);
    if (message) assert.equal(err.responseData.errorMessage, message);
    return true;
  });
}

// The official client builds collection URLs with a trailing slash (POST /admin/realms/,
// GET /admin/realms/{r}/users/?username=..., POST .../clients/, .../groups/): Keycloak (JAX-RS)
// serves them exactly like the slash-less form.
it("[incompat] collection endpoints also answer with a trailing slash", async () => {
  const token = await (async () => {
    const kc = new KcAdminClient({ baseUrl: server.url, realmName: "master" });
    await kc.auth({ username: "admin", password: "admin", grantType: "password", clientId: "admin-cli" });
    return kc.accessToken;
  })();
  const failures = [];
  for (const path of ["/admin/realms/", "/admin/realms/master/users/", "/admin/realms/master/clients/",
    "/admin/realms/master/groups/", "/admin/realms/master/roles/"]) {
    const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) failures.push(`GET ${path} -> ${res.status}`);
  }
  assert.deepEqual(failures, []);
});

for (const layout of LAYOUTS) {
  describe(`keycloak-admin-client, ${layout} layout`, () => {
    const realm = unique(`node-${layout}`);
    let kc;
    let setup;

    // The realm is made lazily by the first test that needs it (each test awaits it), so that
    // a server fault there fails every test visibly instead of cancelling the suite.
    function ready() {
      setup ??= (async () => {
        const master = await signedIn(layout);
        const created = await master.realms.create({ realm, enabled: true });
        assert.deepEqual(created, { realmName: realm });
        kc = await signedIn(layout, realm);
      })();
      return setup;
    }

    before(() => ready().catch(() => {}));

    // it(), after the realm is ready, with the failing request's URL and status in the error
    function check(name, fn) {
      it(name, async () => {
        try {
          await ready();
          await fn();
        } catch (err) {
          throw annotate(err);
        }
      });
    }

    async function newUser(extra = {}) {
      const username = unique("user");
      const { id } = await kc.users.create({
        username,
        email: `${username}@example.test`,
        firstName: "Ada",
        lastName: "Lovelace",
        enabled: true,
        emailVerified: true,
        ...extra,
      });
      return { id, username };
    }

    check("signs in to master; the token's issuer carries the layout", async () => {
      const master = await signedIn(layout);
      assert.equal(claims(master.accessToken).iss, `${server.base(layout)}/realms/master`);
      const realms = await master.realms.find();
      assert.ok(realms.some((r) => r.realm === "master"));
      assert.ok(realms.some((r) => r.realm === realm));
      const rep = await master.realms.findOne({ realm });
      assert.equal(rep.realm, realm);
      assert.equal(rep.enabled, true);
    });

    check("refreshes its token through the refresh_token grant when the access token expires", async () => {
      // (the library refreshes at the realm it is configured for, so this one stays on master)
      const client = await signedIn(layout);
      // an access token that decodes as expired makes the library refresh before the next call
      const expired = ["e30", Buffer.from(JSON.stringify({ exp: 1 })).toString("base64url"), "x"];
      client.setAccessToken(expired.join("."));
      assert.equal((await client.realms.findOne({ realm })).realm, realm);
      assert.notEqual(client.accessToken, expired.join("."));
      assert.equal(claims(client.accessToken).preferred_username, "admin");
    });

    check("creates users and finds them by username (exact), counts them", async () => {
      const before = await kc.users.count();
      assert.equal(typeof before, "number");
      const { id, username } = await newUser();
      assert.match(id, /^[0-9a-f-]{36}$/);
      const found = await kc.users.find({ username, exact: true });
      assert.deepEqual(found.map((u) => u.id), [id]);
      assert.equal(found[0].email, `${username}@example.test`);
      assert.equal(found[0].enabled, true);
      const one = await kc.users.findOne({ id });
      assert.equal(one.username, username);
      assert.equal(await kc.users.count(), before + 1);
      assert.equal(await kc.users.count({ search: username }), 1);
      const page = await kc.users.find({ first: 0, max: 1 });
      assert.equal(page.length, 1);
    });

    check("findOne of an unknown user is null (404 under the hood)", async () => {
      assert.equal(await kc.users.findOne({ id: "00000000-0000-0000-0000-000000000000" }), null);
    });

    check("409 on a duplicate username, with Keycloak's message", async () => {
      const { username } = await newUser();
      await rejects409(kc.users.create({ username }), "User exists with same username");
    });

    check("resetPassword, then the user gets tokens", async () => {
      const { id, username } = await newUser();
      await kc.users.resetPassword({
        id,
        credential: { type: "password", value: "Node-pass-1", temporary: false },
      });
      const { status, body } = await passwordToken(layout, realm, username, "Node-pass-1");
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(claims(body.access_token).preferred_username, username);
    });

    check("creates an OIDC client and reads its secret; clients.find by clientId", async () => {
      const clientId = unique("app");
      const { id } = await kc.clients.create({
        clientId,
        publicClient: false,
        redirectUris: ["http://127.0.0.1:9/callback"],
        serviceAccountsEnabled: true,
      });
      const [found] = await kc.clients.find({ clientId });
      assert.equal(found.id, id);
      assert.equal(found.protocol, "openid-connect");
      const secret = await kc.clients.getClientSecret({ id });
      assert.equal(secret.type, "secret");
      assert.ok(secret.value);
      const regenerated = await kc.clients.generateNewClientSecret({ id });
      assert.notEqual(regenerated.value, secret.value);
      const conf = await kc.clients.getInstallationProviders({
        id,
        providerId: "keycloak-oidc-keycloak-json",
      });
      assert.equal(conf.resource, clientId);
      assert.equal(conf.realm, realm);
      await rejects409(kc.clients.create({ clientId }), `Client ${clientId} already exists`);
    });

    check("creates a docker-v2 client and reads its secret and registry settings", async () => {
      const clientId = unique("registry");
      const { id } = await kc.clients.create({ clientId, protocol: "docker-v2", publicClient: false });
      const [found] = await kc.clients.find({ clientId });
      assert.equal(found.id, id);
      assert.equal(found.protocol, "docker-v2");
      const secret = await kc.clients.getClientSecret({ id });
      assert.ok(secret.value);
      const yaml = await kc.clients.getInstallationProviders({
        id,
        providerId: "docker-v2-registry-config-file",
      });
      assert.equal(typeof yaml, "string");
      assert.match(yaml, new RegExp(`service: ${clientId}`));
    });

    check("creates realm roles and maps them to a user", async () => {
      const { id } = await newUser();
      const name = unique("role");
      assert.deepEqual(await kc.roles.create({ name, description: "pushes" }), { roleName: name });
      const role = await kc.roles.findOneByName({ name });
      assert.equal(role.name, name);
      assert.equal(role.description, "pushes");
      assert.equal((await kc.roles.findOneById({ id: role.id })).name, name);
      await kc.users.addRealmRoleMappings({ id, roles: [{ id: role.id, name: role.name }] });
      const mapped = await kc.users.listRealmRoleMappings({ id });
      assert.ok(mapped.some((r) => r.name === name));
      const members = await kc.roles.findUsersWithRole({ name });
      assert.deepEqual(members.map((u) => u.id), [id]);
      await kc.users.delRealmRoleMappings({ id, roles: [{ id: role.id, name: role.name }] });
      assert.ok(!(await kc.users.listRealmRoleMappings({ id })).some((r) => r.name === name));
      await rejects409(kc.roles.create({ name }), `Role with name ${name} already exists`);
    });

    check("creates groups and child groups, adds members, lists them", async () => {
      const top = unique("team");
      const { id: groupId } = await kc.groups.create({ name: top });
      // createChildGroup is 26.x's name for the older setOrCreateChild
      const { id: childId } = await kc.groups.createChildGroup({ id: groupId }, { name: "devs" });
      assert.notEqual(childId, groupId);
      const child = await kc.groups.findOne({ id: childId });
      assert.equal(child.path, `/${top}/devs`);
      const subs = await kc.groups.listSubGroups({ parentId: groupId });
      assert.deepEqual(subs.map((g) => g.id), [childId]);
      const { id: userId } = await newUser();
      await kc.users.addToGroup({ id: userId, groupId: childId });
      const members = await kc.groups.listMembers({ id: childId });
      assert.deepEqual(members.map((m) => m.id), [userId]);
      const groups = await kc.users.listGroups({ id: userId });
      assert.deepEqual(groups.map((g) => g.path), [`/${top}/devs`]);
      const { count } = await kc.groups.count();
      assert.ok(count >= 1);
      await kc.users.delFromGroup({ id: userId, groupId: childId });
      assert.deepEqual(await kc.groups.listMembers({ id: childId }), []);
      await kc.groups.del({ id: groupId });
      assert.equal(await kc.groups.findOne({ id: childId }), null);
    });

    check("disables a user with a partial update (merge), which blocks the password grant", async () => {
      const { id, username } = await newUser();
      await kc.users.resetPassword({
        id,
        credential: { type: "password", value: "Node-pass-1", temporary: false },
      });
      await kc.users.update({ id }, { enabled: false });
      const user = await kc.users.findOne({ id });
      assert.equal(user.enabled, false);
      assert.equal(user.email, `${username}@example.test`);
      assert.equal(user.firstName, "Ada");
      const { status, body } = await passwordToken(layout, realm, username, "Node-pass-1");
      assert.equal(status, 400);
      assert.equal(body.error, "invalid_grant");
    });

    check("deletes users, clients, roles, groups and realms", async () => {
      const { id } = await newUser();
      await kc.users.del({ id });
      assert.equal(await kc.users.findOne({ id }), null);
      const { id: clientUuid } = await kc.clients.create({ clientId: unique("gone") });
      await kc.clients.del({ id: clientUuid });
      assert.equal(await kc.clients.findOne({ id: clientUuid }), null);
      const name = unique("gone");
      await kc.roles.create({ name });
      await kc.roles.delByName({ name });
      assert.equal(await kc.roles.findOneByName({ name }), null);
      const master = await signedIn(layout);
      const other = unique("gone");
      await master.realms.create({ realm: other });
      await master.realms.del({ realm: other });
      assert.equal(await master.realms.findOne({ realm: other }), null);
    });

    check("logs a user out (POST /users/{id}/logout)", async () => {
      const { id, username } = await newUser();
      await kc.users.resetPassword({
        id,
        credential: { type: "password", value: "Node-pass-1", temporary: false },
      });
      const { body } = await passwordToken(layout, realm, username, "Node-pass-1");
      await kc.users.logout({ id });
      const res = await fetch(
        `${server.base(layout)}/realms/${realm}/protocol/openid-connect/token`,
        {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({
            grant_type: "refresh_token",
            client_id: "admin-cli",
            refresh_token: body.refresh_token,
          }),
        },
      );
      assert.equal(res.status, 400);
    });

    check("lists and ends sessions (users, clients, client-session-stats, DELETE /sessions, logout-all)", async () => {
      const { id, username } = await newUser();
      await kc.users.resetPassword({
        id,
        credential: { type: "password", value: "Node-pass-1", temporary: false },
      });
      const { body } = await passwordToken(layout, realm, username, "Node-pass-1");
      const [cli] = await kc.clients.find({ clientId: "admin-cli" });
      const [session] = await kc.users.listSessions({ id });
      assert.equal(session.id, body.session_state);
      assert.equal(session.username, username);
      assert.equal(session.userId, id);
      assert.deepEqual(session.clients, { [cli.id]: "admin-cli" });
      assert.ok((await kc.clients.listSessions({ id: cli.id })).some((s) => s.id === session.id));
      assert.ok((await kc.clients.getSessionCount({ id: cli.id })).count >= 1);
      const stats = await kc.realms.getClientSessionStats({ realm });
      assert.equal(stats.find((row) => row.clientId === "admin-cli").offline, "0");
      await kc.realms.deleteSession({ realm, session: session.id, isOffline: false });
      assert.deepEqual(await kc.users.listSessions({ id }), []);
      await passwordToken(layout, realm, username, "Node-pass-1");
      assert.equal((await kc.users.listSessions({ id })).length, 1);
      await kc.realms.logoutAll({ realm });
      assert.deepEqual(await kc.users.listSessions({ id }), []);
      assert.deepEqual(await kc.realms.pushRevocation({ realm }), {});
    });

    check("reads the realm keys", async () => {
      const keys = await kc.realms.getKeys({ realm });
      const kid = keys.active.RS256;
      const key = keys.keys.find((k) => k.kid === kid);
      assert.equal(key.algorithm, "RS256");
      assert.ok(key.publicKey && key.certificate);
    });

    check("builds composite roles by id, replaces a role, deletes it by id", async () => {
      const parent = unique("parent");
      const child = unique("child");
      await kc.roles.create({ name: parent });
      await kc.roles.create({ name: child, description: "kept?", attributes: { tier: ["gold"] } });
      const p = await kc.roles.findOneByName({ name: parent });
      const c = await kc.roles.findOneByName({ name: child });
      assert.deepEqual(c.attributes, { tier: ["gold"] });
      await kc.roles.createComposite({ roleId: p.id }, [{ id: c.id }]);
      assert.equal((await kc.roles.findOneById({ id: p.id })).composite, true);
      assert.deepEqual((await kc.roles.getCompositeRoles({ id: p.id })).map((r) => r.name), [child]);
      assert.deepEqual((await kc.roles.getCompositeRolesForRealm({ id: p.id })).map((r) => r.name), [child]);
      await kc.roles.delCompositeRoles({ id: p.id }, [{ id: c.id }]);
      assert.deepEqual(await kc.roles.getCompositeRoles({ id: p.id }), []);
      await kc.roles.updateById({ id: c.id }, { name: child });
      const replaced = await kc.roles.findOneById({ id: c.id });
      assert.equal(replaced.description, undefined);
      assert.deepEqual(replaced.attributes, { tier: ["gold"] });
      await kc.roles.delById({ id: c.id });
      assert.equal(await kc.roles.findOneById({ id: c.id }), null); // 404 under the hood
    });

    check("lists role mappings: all, composite and available, for users and groups", async () => {
      const { id } = await newUser();
      const name = unique("role");
      await kc.roles.create({ name });
      const role = await kc.roles.findOneByName({ name });
      const available = await kc.users.listAvailableRealmRoleMappings({ id });
      assert.ok(available.some((r) => r.name === name));
      await kc.users.addRealmRoleMappings({ id, roles: [{ id: role.id, name }] });
      const composite = (await kc.users.listCompositeRealmRoleMappings({ id })).map((r) => r.name);
      assert.ok(composite.includes(name) && composite.includes("offline_access"), composite.join());
      const all = await kc.users.listRoleMappings({ id });
      assert.ok(all.realmMappings.some((r) => r.name === name));
      assert.equal(all.clientMappings, undefined);

      const { id: groupId } = await kc.groups.create({ name: unique("crew"), attributes: { site: ["n"] } });
      await kc.groups.addRealmRoleMappings({ id: groupId, roles: [{ id: role.id, name }] });
      assert.deepEqual((await kc.groups.listRealmRoleMappings({ id: groupId })).map((r) => r.name), [name]);
      const group = await kc.groups.findOne({ id: groupId });
      assert.deepEqual(group.attributes, { site: ["n"] });
      assert.deepEqual(group.realmRoles, [name]);
      assert.equal(group.access.manage, true);
    });

    check("searches users by prefix, with quotes for exact words", async () => {
      const stem = unique("srch");
      await kc.users.create({ username: `${stem}-one`, enabled: true });
      await kc.users.create({ username: `x${stem}`, enabled: true });
      assert.deepEqual((await kc.users.find({ search: stem })).map((u) => u.username), [`${stem}-one`]);
      assert.deepEqual(await kc.users.find({ search: `"${stem}"` }), []);
      assert.equal(await kc.users.count({ search: stem }), 1);
      const [brief] = await kc.users.find({ search: stem, briefRepresentation: true });
      assert.equal(brief.totp, undefined);
      assert.deepEqual(brief.access, { manage: true });
      const profile = await kc.users.getProfile();
      assert.deepEqual(profile.attributes.map((a) => a.name), ["username", "email", "firstName", "lastName"]);
    });

    check("reads a client's service account, secret and client scopes", async () => {
      const clientId = unique("robot");
      const { id } = await kc.clients.create({ clientId, publicClient: false, serviceAccountsEnabled: true });
      const account = await kc.clients.getServiceAccountUser({ id });
      assert.equal(account.username, `service-account-${clientId}`);
      const secret = await kc.clients.getClientSecret({ id });
      assert.equal(secret.type, "secret");
      assert.ok(secret.value);
      const scopes = await kc.clientScopes.find();
      assert.ok(["profile", "email", "roles"].every((n) => scopes.some((s) => s.name === n)));
      const defaults = (await kc.clients.listDefaultClientScopes({ id })).map((s) => s.name).sort();
      assert.deepEqual(defaults, ["acr", "basic", "email", "profile", "roles", "service_account", "web-origins"]);
    });

    // Keycloak: GET /admin/realms/{r}/group-by-path/{path} returns the GroupRepresentation.
    check("[incompat] realms.getGroupByPath finds a child group", async () => {
      const top = unique("team");
      const { id } = await kc.groups.create({ name: top });
      const { id: childId } = await kc.groups.createChildGroup({ id }, { name: "ops" });
      const found = await kc.realms.getGroupByPath({ realm, path: `${top}/ops` });
      assert.equal(found?.id, childId);
    });

    // Keycloak: reset-password with temporary: true adds UPDATE_PASSWORD to requiredActions,
    // and the direct grant then fails with 400 invalid_grant "Account is not fully set up".
    check("[incompat] a temporary password forces an update before the password grant", async () => {
      const { id, username } = await newUser();
      await kc.users.resetPassword({
        id,
        credential: { type: "password", value: "Temp-pass-1", temporary: true },
      });
      const user = await kc.users.findOne({ id });
      assert.ok(user.requiredActions?.includes("UPDATE_PASSWORD"), JSON.stringify(user));
      const { status, body } = await passwordToken(layout, realm, username, "Temp-pass-1");
      assert.equal(status, 400);
      assert.equal(body.error_description, "Account is not fully set up");
    });

    // Keycloak: the realm-management client's roles (clients.findRole) and client role
    // mappings (users.addClientRoleMappings) are how a realm's own admins are made.
    check("[incompat] a realm admin made with realm-management client roles", async () => {
      const { id, username } = await newUser();
      await kc.users.resetPassword({
        id,
        credential: { type: "password", value: "Realm-admin-1", temporary: false },
      });
      const [rm] = await kc.clients.find({ clientId: "realm-management" });
      const role = await kc.clients.findRole({ id: rm.id, roleName: "manage-users" });
      assert.ok(role, "GET /clients/{id}/roles/manage-users");
      await kc.users.addClientRoleMappings({
        id,
        clientUniqueId: rm.id,
        roles: [{ id: role.id, name: role.name }],
      });
      const realmAdmin = new KcAdminClient({ baseUrl: server.base(layout), realmName: realm });
      await realmAdmin.auth({
        username,
        password: "Realm-admin-1",
        grantType: "password",
        clientId: "admin-cli",
      });
      assert.ok((await realmAdmin.users.find({ username })).length === 1);
    });

    // Keycloak: GET /admin/realms/{r}/admin-events lists what admins did once
    // adminEventsEnabled is on.
    check("[incompat] realms.findAdminEvents records the creation of a user", async () => {
      const master = await signedIn(layout);
      await master.realms.update({ realm }, { adminEventsEnabled: true, adminEventsDetailsEnabled: true });
      const { id } = await newUser();
      const events = await kc.realms.findAdminEvents({ realm, operationTypes: "CREATE" });
      const mine = events.filter((e) => e.resourcePath === `users/${id}`);
      assert.equal(mine.length, 1, JSON.stringify(events));
      assert.equal(mine[0].resourceType, "USER");
    });
  });
}
