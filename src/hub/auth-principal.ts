// A principal's publish/subscribe permits, checked for every PUBLISH and SUBSCRIBE: a `#` permit
// short-circuits, other answers are memoised per topic (bounded) since clients reuse few topics.

import { filtersCover } from "./auth-filters.ts";
import type { PrincipalConfig } from "./config-principals.ts";
import type { Principal } from "./contracts.ts";

const CACHE_LIMIT = 4096;

class PermitSet {
  private readonly all: boolean;
  private readonly cache = new Map<string, boolean>();

  constructor(private readonly permits: readonly string[]) {
    this.all = permits.includes("#");
  }

  allows(filter: string): boolean {
    if (this.all) return true;
    if (this.permits.length === 0) return false;
    let answer = this.cache.get(filter);
    if (answer === undefined) {
      answer = filtersCover(this.permits, filter);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(filter, answer);
    }
    return answer;
  }
}

export class PermitPrincipal implements Principal {
  readonly name: string;
  private readonly pub: PermitSet;
  private readonly sub: PermitSet;

  constructor(config: PrincipalConfig) {
    this.name = config.username;
    const permits = (action: "pub" | "sub") =>
      config.permissions.filter((p) => p.action === action).flatMap((p) => p.permit);
    this.pub = new PermitSet(permits("pub"));
    this.sub = new PermitSet(permits("sub"));
  }

  canPublish(topic: string): boolean {
    return this.pub.allows(topic);
  }

  canSubscribe(filter: string): boolean {
    return this.sub.allows(filter);
  }
}
