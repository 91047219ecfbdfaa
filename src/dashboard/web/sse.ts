// Server-Sent Events as the WHATWG spec reads them (event:, data:, retry:, comments), from text that
// arrives in chunks cut anywhere. No imports: the unit tests run it without a browser.

export interface SseEvent {
  event: string;
  data: string;
}

/** Splits a growing text buffer into complete events; returns what is left over. */
export function parseSse(buffer: string, onEvent: (e: SseEvent) => void, onRetry: (ms: number) => void): string {
  const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
    }
    if (data.length > 0) onEvent({ event, data: data.join('\n') });
  }
  return rest;
}
