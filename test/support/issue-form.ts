/** A body as GitHub renders a submitted access-request form (`### Label\n\nvalue` per field). */
export function formBody(
  fields: Partial<Record<'Target' | 'Role' | 'Duration' | 'Reason' | 'Ticket', string>> = {},
): string {
  const all = {
    Target: 'vpn',
    Role: 'ops',
    Duration: '2h',
    Reason: 'INC-7 vpn flaps',
    Ticket: '_No response_',
    ...fields,
  };
  return Object.entries(all)
    .map(([k, v]) => `### ${k}\n\n${v}`)
    .join('\n\n');
}
