/**
 * A local HTTP server whose answer a test sets and changes: the application an HTTP health check looks at.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Answer {
  readonly status: number;
  readonly body?: string;
  /** Wait this long before answering. */
  readonly delayMs?: number;
  readonly headers?: Record<string, string>;
}

export interface TestHttpServer {
  readonly url: string;
  /** What the server answers from now on. */
  answer(answer: Answer): void;
  /** What it answers once it has received `requests` requests (the application breaking later). */
  answerAfter(requests: number, answer: Answer): void;
  /** How many requests it received. */
  readonly requests: () => number;
  close(): Promise<void>;
}

export async function startHttpServer(initial: Answer): Promise<TestHttpServer> {
  let current = initial;
  let later: { requests: number; answer: Answer } | undefined;
  let count = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((_request, response) => {
    count += 1;
    if (later && count > later.requests) current = later.answer;
    const answer = current;
    const send = () => {
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      response.end(answer.body ?? '');
    };
    if (!answer.delayMs) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, answer.delayMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answer: (answer) => {
      current = answer;
    },
    answerAfter: (requests, answer) => {
      later = { requests, answer };
    },
    requests: () => count,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
