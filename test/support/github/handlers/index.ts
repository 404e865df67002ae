import { collaboratorHandlers } from './collaborators.js';
import { commentHandlers } from './comments.js';
import type { Handler } from './context.js';
import { gitHandlers } from './git.js';
import { gitDataHandlers } from './git-data.js';
import { issueHandlers } from './issues.js';
import { pullHandlers } from './pulls.js';
import { teamHandlers } from './teams.js';
import { userHandlers } from './users.js';

/** Every endpoint the local server speaks, by OpenAPI operationId. */
export function defaultHandlers(): Record<string, Handler> {
  return {
    ...teamHandlers,
    ...userHandlers,
    ...collaboratorHandlers,
    ...pullHandlers,
    ...gitDataHandlers,
    ...gitHandlers,
    ...issueHandlers,
    ...commentHandlers,
  };
}
