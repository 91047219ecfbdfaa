import winston from 'winston';

export type LogFormat = 'json' | 'text';

/** Structured logs: every line carries plan, namespace, step and weight fields where they apply. */
export function createLogger(format: LogFormat = 'text', level: string = process.env['LOG_LEVEL'] ?? 'info'): winston.Logger {
  const text = winston.format.printf(({ level: lvl, message, timestamp, ...fields }) => {
    const extra = Object.entries(fields)
      .filter(([k]) => typeof k === 'string')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${String(timestamp)} ${lvl.padEnd(5)} ${String(message)}${extra ? ` ${extra}` : ''}`;
  });
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), format === 'json' ? winston.format.json() : text),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}

/** A logger that drops everything, for tests and embedding. */
export function silentLogger(): winston.Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
