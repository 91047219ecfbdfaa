// Credentials out of everything people read: check messages (status, Events), notification log
// lines and error strings. A plan author sees status; whoever reads Events or logs may not be
// allowed to see the Secrets a plan names, so a URL is redacted before it is put in any of them.
//
// Text is edited in place rather than re-serialized through `new URL()`: the rest of a message
// must stay as the code wrote it (no trailing slash added, no percent-encoding changed).

/** A URL whose whole text came from a Secret (a notification's `urlFrom`): the URL itself is the
 * credential (a Slack webhook's path is its key), so it is never shown, only where it came from. */
export interface SecretUrl {
  url: string;
  name: string;
  key: string;
}

export const REDACTED = 'REDACTED';

/** Query and fragment keys whose values are credentials. Compared after lowercasing and dropping
 * everything but letters and digits, and as a suffix: `X-Amz-Signature`, `api_key`,
 * `private_token` and `client_secret` all match. */
const SECRET_KEY_SUFFIXES = ['token', 'key', 'secret', 'password', 'passwd', 'pwd', 'sig', 'signature', 'auth', 'apikey', 'credential', 'credentials', 'session'];

// A scheme, `://`, then anything up to white space or a character that ends a URL in prose or JSON.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
// Trailing punctuation belongs to the sentence, not to the URL.
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

export function secretUrlPlaceholder(ref: { name: string; key: string }): string {
  return `<url from secret ${ref.name}/${ref.key}>`;
}

function isSecretKey(key: string): boolean {
  let name: string;
  try {
    name = decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    name = key;
  }
  const plain = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return plain !== '' && SECRET_KEY_SUFFIXES.some((s) => plain.endsWith(s));
}

/** `a=1&token=x` -> `a=1&token=REDACTED`. */
function redactPairs(pairs: string): string {
  return pairs
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      return isSecretKey(pair.slice(0, eq)) ? `${pair.slice(0, eq + 1)}${REDACTED}` : pair;
    })
    .join('&');
}

function redactOneUrl(url: string): string {
  // Userinfo runs to the last `@` before the path: the WHATWG parser reads `a@b@host` that way.
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/i, '$1');
  const hash = out.indexOf('#');
  const beforeHash = hash < 0 ? out : out.slice(0, hash);
  const fragment = hash < 0 ? undefined : out.slice(hash + 1);
  const q = beforeHash.indexOf('?');
  const query = q < 0 ? undefined : beforeHash.slice(q + 1);
  out = q < 0 ? beforeHash : `${beforeHash.slice(0, q)}?${redactPairs(query as string)}`;
  // Fragments carry tokens too (OAuth's implicit flow: `#access_token=…`).
  if (fragment !== undefined) out += `#${redactPairs(fragment)}`;
  return out;
}

/** The spellings a Secret's URL may take in a message: as stored (maybe with a newline), trimmed,
 * and as `new URL()` serializes it (fetch errors quote that one). */
function spellings(url: string): string[] {
  const trimmed = url.trim();
  const forms = new Set([trimmed]);
  try {
    forms.add(new URL(trimmed).href);
  } catch {
    // Not a URL: the trimmed text is the only spelling.
  }
  return [...forms].filter((f) => f !== '').sort((a, b) => b.length - a.length);
}

/**
 * `text` with every URL in it made safe to show: userinfo (`user:pass@`) removed, the values of
 * credential-like query and fragment keys (token, key, secret, password, sig, signature, auth,
 * apikey, access_token, …) replaced by REDACTED, and each URL that came from a Secret replaced
 * whole by `<url from secret NAME/KEY>`. Text without URLs comes back unchanged.
 */
export function redactUrl(text: string, fromSecrets: readonly SecretUrl[] = []): string {
  let out = text;
  for (const secret of fromSecrets) {
    for (const form of spellings(secret.url)) out = out.split(form).join(secretUrlPlaceholder(secret));
  }
  return out.replace(URL_IN_TEXT, (match) => {
    const tail = TRAILING_PUNCTUATION.exec(match)?.[0] ?? '';
    return redactOneUrl(match.slice(0, match.length - tail.length)) + tail;
  });
}
