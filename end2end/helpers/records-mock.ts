// A stand-in for the server's record calls, held in the test's memory: enough of
// records/tree, records/create, records/node/create and records/node/trash for
// pages that keep metadata-only entries (vital signs, search) to be looked at
// before the real record server exists. Screenshots only; tests use the server.
import type { Page } from '@playwright/test';

type NodeView = {
  node_id: string;
  parent_id: string | null;
  kind: string;
  wrapped_key: string;
  metadata: string;
  revision: number;
  trashed_at: number | null;
  current: null;
  version_count: number;
};

export async function mockRecords(page: Page) {
  const session = await (await page.request.get('/api/account/session', { headers: { 'x-medvault-request': '1' } })).json();
  const ownerId: string = session.user_id;
  let tree: { owner_id: string; root_id: string; nodes: NodeView[]; usage: object } | null = null;
  const view = (n: Omit<NodeView, 'revision' | 'trashed_at' | 'current' | 'version_count'>): NodeView => ({
    ...n,
    revision: 1,
    trashed_at: null,
    current: null,
    version_count: 0,
  });
  const json = (body: unknown) => ({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify(body),
  });
  await page.route('**/api/records/**', async (route) => {
    const url = new URL(route.request().url());
    const path = url.pathname.replace('/api/records/', '');
    const body = route.request().postDataJSON?.() ?? null;
    if (path === 'tree') return route.fulfill(json(tree));
    if (path === 'create') {
      tree = {
        owner_id: ownerId,
        root_id: body.root.node_id,
        nodes: [view(body.root), ...body.children.map(view)],
        usage: { used_bytes: 0, quota_bytes: 1 << 30, max_file_bytes: 1 << 31 },
      };
      return route.fulfill(json(tree));
    }
    if (path === 'node/create' && tree) {
      const node = view(body.node);
      tree.nodes.push(node);
      return route.fulfill(json(node));
    }
    if (path === 'node/trash' && tree) {
      const node = tree.nodes.find((n) => n.node_id === body.request.node_id)!;
      node.trashed_at = Math.floor(Date.now() / 1000);
      node.revision += 1;
      return route.fulfill(json(node));
    }
    return route.fulfill({
      status: 404,
      contentType: 'application/json',
      body: JSON.stringify({ code: 'not_found', message: 'Not found.' }),
    });
  });
}
