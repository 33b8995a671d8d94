import { lookup } from 'node:dns/promises';
import type { Resolver } from './outbound.ts';

/**
 * The system's own resolution (getaddrinfo, hosts file included), on Node and Deno alike: the
 * same answer fetch gets when it connects, so a name the hosts file points at loopback is seen as
 * loopback here too. A DNS-only lookup would miss that.
 */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => answer.address);
};
