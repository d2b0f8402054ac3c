// The app's one way to the server: /graphql with the user's bearer token and the app's
// persisted operations (operations.json: name -> {sha256, query}).

const TOKEN_KEY = "ecehub.token";
let settings = null;
let operations = null;

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

export async function loadSettings() {
  [settings, operations] = await Promise.all([getJSON("config.json"), getJSON("operations.json")]);
  return settings;
}

export function appSettings() {
  return settings;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** The token's claims, for display and navigation only: the server decides what is shown. */
export function claims() {
  const value = token();
  if (!value) return null;
  try {
    const payload = value.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(payload))));
  } catch {
    return {};
  }
}

export function hasRole(role) {
  const roles = claims()?.roles ?? [];
  return (Array.isArray(roles) ? roles : String(roles).split(/[ ,]+/)).includes(role);
}

export class SignedOut extends Error {}

/**
 * Runs the named operation; answers {data, errors} (errors: the GraphQL errors, possibly
 * with partial data). A 401 signs the user out (an expired or refused token).
 */
export async function gql(name, variables = {}) {
  const operation = operations[name];
  if (!operation) throw new Error(`unknown operation ${name}`);
  const body = {
    operationName: name,
    variables,
    extensions: { persistedQuery: { version: 1, sha256Hash: operation.sha256 } },
  };
  // An allow-listed server knows the app's operations by hash; others get the text too.
  if (!settings.persistedOnly) body.query = operation.query;
  const headers = { "Content-Type": "application/json", Accept: "application/json", ...authorization() };
  const response = await fetch("../graphql", { method: "POST", headers, body: JSON.stringify(body) });
  if (response.status === 401) {
    setToken(null);
    throw new SignedOut("Your sign-in is no longer valid; please sign in again.");
  }
  let result;
  try {
    result = await response.json();
  } catch {
    throw new Error(`the server answered HTTP ${response.status}`);
  }
  return { data: result.data ?? null, errors: result.errors ?? [] };
}

function authorization() {
  return token() ? { Authorization: `Bearer ${token()}` } : {};
}

/**
 * Runs the named operation with one file (the GraphQL multipart request spec): the file is
 * the variable ``fileVariable``.
 */
export async function gqlUpload(name, variables, fileVariable, file) {
  const operation = operations[name];
  const body = new FormData();
  const payload = {
    operationName: name,
    variables: { ...variables, [fileVariable]: null },
    extensions: { persistedQuery: { version: 1, sha256Hash: operation.sha256 } },
  };
  if (!settings.persistedOnly) payload.query = operation.query;
  body.append("operations", JSON.stringify(payload));
  body.append("map", JSON.stringify({ 0: [`variables.${fileVariable}`] }));
  body.append("0", file, file.name);
  const response = await fetch("../graphql", { method: "POST", headers: authorization(), body });
  if (response.status === 401) {
    setToken(null);
    throw new SignedOut("Your sign-in is no longer valid; please sign in again.");
  }
  const result = await response.json().catch(() => ({ errors: [{ message: `HTTP ${response.status}` }] }));
  return { data: result.data ?? null, errors: result.errors ?? [] };
}

/** Downloads a file (GET /files/ID needs the token, so a plain link will not do). */
export async function download(fileId, filename) {
  const response = await fetch(`../files/${encodeURIComponent(fileId)}`, { headers: authorization() });
  if (!response.ok) throw new Error(`download refused: HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The errors' codes, e.g. VERSION_CONFLICT. */
export function codeOf(error) {
  return error?.extensions?.code ?? "ERROR";
}

/** SOURCE_* errors: a sector system that did not answer. */
export function sourceErrors(errors) {
  return errors.filter((e) => codeOf(e).startsWith("SOURCE_"));
}
