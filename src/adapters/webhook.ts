/**
 * A Slack-compatible incoming webhook: `{"text": …}` posted as JSON, with a timeout so a hanging chat
 * service cannot hold a reaper run.
 */
export function slackWebhook(url: string, fetchImpl: typeof fetch = fetch): (text: string) => Promise<void> {
  return async (text) => {
    const res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  };
}
