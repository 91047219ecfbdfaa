// Kubernetes label selectors in their string form, as `kubectl get -l` and `?labelSelector=` take
// them (k8s.io/apimachinery/pkg/labels.Parse): requirements joined by commas, each one of
//   key        key exists          !key          key does not exist
//   key=value  key==value          key!=value    (a missing key also matches !=)
//   key in (a,b)                   key notin (a,b)  (a missing key also matches notin)
//   key>1      key<1               (integer values; a missing key matches neither)
// Keys are qualified names (an optional DNS-subdomain prefix and a slash, then at most 63 of
// [A-Za-z0-9-_.] starting and ending alphanumeric); values are empty or at most 63 such characters.
// Pure: the REST list route filters the cached plans with it.

export type Requirement =
  | { key: string; op: 'exists' | 'doesNotExist' }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export class InvalidSelector extends Error {
  override readonly name = 'InvalidSelector';
}

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    throw new InvalidSelector(`invalid label key "${key}": the prefix must be a DNS subdomain (lowercase a-z, 0-9, "-", "."), at most 253 characters`);
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    throw new InvalidSelector(`invalid label key "${key}": the name must be at most 63 characters of a-z, A-Z, 0-9, "-", "_" and ".", starting and ending with a letter or digit`);
  }
}

function checkValue(value: string): void {
  if (value === '') return;
  if (value.length > 63 || !NAME.test(value)) {
    throw new InvalidSelector(`invalid label value "${value}": at most 63 characters of a-z, A-Z, 0-9, "-", "_" and ".", starting and ending with a letter or digit`);
  }
}

type Token =
  | { kind: 'id'; text: string }
  | { kind: 'op'; text: '!' | '=' | '==' | '!=' | '>' | '<' | '(' | ')' | ',' }
  | { kind: 'end' };

const OPERATORS = ['==', '!=', '!', '=', '>', '<', '(', ')', ','] as const;

/** apimachinery's lexer: operators, and identifiers that run until whitespace or an operator. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op !== undefined) {
      tokens.push({ kind: 'op', text: op });
      i += op.length;
      continue;
    }
    let j = i;
    while (j < text.length && !/\s/.test(text[j] as string) && !'!=><(),'.includes(text[j] as string)) j++;
    tokens.push({ kind: 'id', text: text.slice(i, j) });
    i = j;
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'the end' : `"${token.text}"`;
}

/** Parses a selector; the empty string selects everything. Throws InvalidSelector. */
export function parseLabelSelector(text: string): Requirement[] {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos] as Token;
  const next = (): Token => tokens[pos++] as Token;
  const isOp = (t: Token, op: string): boolean => t.kind === 'op' && t.text === op;
  const requirements: Requirement[] = [];
  if (peek().kind === 'end') return requirements;

  const identifier = (what: string): string => {
    const t = next();
    if (t.kind !== 'id') throw new InvalidSelector(`expected ${what}, found ${describe(t)}`);
    return t.text;
  };

  const valueSet = (): string[] => {
    const open = next();
    if (!isOp(open, '(')) throw new InvalidSelector(`expected "(" after in/notin, found ${describe(open)}`);
    if (isOp(peek(), ')')) throw new InvalidSelector('the value set of in/notin must not be empty');
    const values: string[] = [];
    for (;;) {
      const t = peek();
      if (t.kind === 'id') {
        next();
        checkValue(t.text);
        values.push(t.text);
      } else if (isOp(t, ',') || isOp(t, ')')) {
        // An empty element, as in `(a,,b)`, is the empty value, as apimachinery reads it.
        values.push('');
      } else {
        throw new InvalidSelector(`expected a value or ")" in a value set, found ${describe(t)}`);
      }
      const sep = next();
      if (isOp(sep, ')')) break;
      if (!isOp(sep, ',')) throw new InvalidSelector(`expected "," or ")" in a value set, found ${describe(sep)}`);
    }
    return [...new Set(values)];
  };

  for (;;) {
    if (isOp(peek(), '!')) {
      next();
      const key = identifier('a label key after "!"');
      checkKey(key);
      requirements.push({ key, op: 'doesNotExist' });
    } else {
      const key = identifier('a label key');
      checkKey(key);
      const t = peek();
      if (t.kind === 'end' || isOp(t, ',')) {
        requirements.push({ key, op: 'exists' });
      } else if (t.kind === 'id' && (t.text === 'in' || t.text === 'notin')) {
        next();
        requirements.push({ key, op: t.text, values: valueSet() });
      } else if (isOp(t, '=') || isOp(t, '==') || isOp(t, '!=')) {
        next();
        const v = peek();
        let value = '';
        if (v.kind === 'id') {
          next();
          value = v.text;
        } else if (!(v.kind === 'end' || isOp(v, ','))) {
          throw new InvalidSelector(`expected a value after ${describe(t)}, found ${describe(v)}`);
        }
        checkValue(value);
        requirements.push({ key, op: t.kind === 'op' && t.text === '!=' ? 'notin' : 'in', values: [value] });
      } else if (isOp(t, '>') || isOp(t, '<')) {
        next();
        const raw = identifier(`an integer after ${describe(t)}`);
        if (!/^-?\d+$/.test(raw)) throw new InvalidSelector(`the value after ${describe(t)} must be an integer, found "${raw}"`);
        requirements.push({ key, op: isOp(t, '>') ? 'gt' : 'lt', value: Number(raw) });
      } else {
        throw new InvalidSelector(`expected an operator (=, ==, !=, in, notin, >, <) or "," after "${key}", found ${describe(t)}`);
      }
    }
    const sep = next();
    if (sep.kind === 'end') return requirements;
    if (!isOp(sep, ',')) throw new InvalidSelector(`expected "," between requirements, found ${describe(sep)}`);
    if (peek().kind === 'end') throw new InvalidSelector('expected a requirement after ","');
  }
}

export function matchesLabels(requirements: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case 'doesNotExist':
        return !has;
      case 'in':
        return has && r.values.includes(value as string);
      case 'notin':
        return !has || !r.values.includes(value as string);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(value as string)) return false;
        const n = Number(value);
        return r.op === 'gt' ? n > r.value : n < r.value;
      }
    }
  });
}
