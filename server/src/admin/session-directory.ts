// What the admin API needs of the streaming server to list and end live sessions. The streaming server implements
// it; the admin path depends on nothing else of it.

export interface LiveSession {
  id: string;
  identityId: string;
  /** The token's subject. */
  subject: string;
  startedAt: string;
  /** Engine worker and device rendering it. */
  worker: string;
  state: string;
}

export interface SessionDirectory {
  list(): Promise<LiveSession[]>;
  /** Ends the session; false when there was no such session. */
  kick(id: string, reason: string): Promise<boolean>;
}

/** The directory of a node that runs no streaming server (admin only): nothing is live. */
export const NO_SESSIONS: SessionDirectory = {
  list: async () => [],
  kick: async () => false,
};
