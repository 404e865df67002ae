/** The local GitHub server lives in github/; this path stays for the tests and benchmarks importing it. */
export { FakeGitHub, type Fault, type Hang, type RecordedRequest, type Reply } from './github/server.js';
export type { FakeIssue, FakeOpenPull, FakePull, StoredComment } from './github/state.js';
export { simpleUser } from './github/json/repos.js';
