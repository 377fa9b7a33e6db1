import { startFakeProvider, type FakeProvider, type FakeRequest, type FakeResponse, type RecordedRequest } from './fake-provider.js';
import { PETSTORE_OPENAPI } from './petstore-openapi.js';

/**
 * A local stand-in for the Swagger Petstore (petstore3.swagger.io/api/v3), answering a few
 * of the operations of its OpenAPI 3.0 document as the reference server does: JSON pets,
 * orders and users, plain-text errors ("Pet not found", "Invalid ID supplied"), the
 * `X-Rate-Limit` / `X-Expires-After` headers of a login. It serves the document itself at
 * `/api/v3/openapi.json`, and, unlike the public demo, checks credentials where the document
 * asks for them (pets, the inventory): the `api_key` header or query parameter (its apiKey
 * scheme) or an OAuth bearer token (its petstore_auth scheme).
 */
export interface FakePetstore extends FakeProvider {
  /** Keys accepted in the `api_key` header (or, with `keyIn: 'query'`, the `api_key` query parameter). */
  readonly apiKeys: Set<string>;
  /** Tokens accepted as `Authorization: Bearer …`. */
  readonly tokens: Set<string>;
  readonly pets: Map<number, Pet>;
  /** Where the document is served: what a connection's `settings.openapi.url` is set to. */
  readonly documentUrl: string;
}

export interface FakePetstoreOptions {
  readonly apiKeys?: readonly string[];
  readonly tokens?: readonly string[];
  /** The document the fake serves (default PETSTORE_OPENAPI). */
  readonly document?: Readonly<Record<string, unknown>>;
}

export interface Pet {
  id: number;
  name: string;
  category?: { id: number; name: string };
  photoUrls: string[];
  tags: Array<{ id: number; name: string }>;
  status: 'available' | 'pending' | 'sold';
}

const STATUSES = new Set(['available', 'pending', 'sold']);

function seed(): Map<number, Pet> {
  const pets: Pet[] = [
    { id: 10, name: 'doggie', category: { id: 1, name: 'Dogs' }, photoUrls: ['https://example.com/photos/doggie.jpg'], tags: [{ id: 1, name: 'friendly' }], status: 'available' },
    { id: 11, name: 'Kitty', category: { id: 2, name: 'Cats' }, photoUrls: [], tags: [{ id: 2, name: 'calm' }], status: 'available' },
    { id: 12, name: 'Nemo', category: { id: 3, name: 'Fish' }, photoUrls: [], tags: [{ id: 1, name: 'friendly' }], status: 'sold' },
  ];
  return new Map(pets.map((p) => [p.id, p]));
}

const USER = { id: 10, username: 'theUser', firstName: 'John', lastName: 'James', email: 'john@email.com', password: '12345', phone: '12345', userStatus: 1 };
const ORDER = { id: 5, petId: 12, quantity: 1, shipDate: '2026-01-15T10:00:00.000Z', status: 'delivered', complete: true };

const text = (status: number, body: string): FakeResponse => ({ status, body });
const json = (body: unknown, status = 200): FakeResponse => ({ status, body });

/** A path id as the reference server reads it: an integer, else "Invalid ID supplied". */
function id(raw: string | undefined): number | undefined {
  return raw !== undefined && /^-?\d{1,18}$/.test(raw) ? Number(raw) : undefined;
}

function asPet(body: unknown, fallbackId: number): Pet | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.name !== 'string' || !Array.isArray(b.photoUrls)) return undefined;
  const status = typeof b.status === 'string' && STATUSES.has(b.status) ? (b.status as Pet['status']) : 'available';
  return {
    id: typeof b.id === 'number' ? b.id : fallbackId,
    name: b.name,
    ...(typeof b.category === 'object' && b.category !== null ? { category: b.category as Pet['category'] & object } : {}),
    photoUrls: b.photoUrls.map(String),
    tags: Array.isArray(b.tags) ? (b.tags as Pet['tags']) : [],
    status,
  };
}

export async function startFakePetstore(options: FakePetstoreOptions = {}): Promise<FakePetstore> {
  const apiKeys = new Set(options.apiKeys ?? ['special-key']);
  const tokens = new Set(options.tokens ?? ['petstore_token_0001']);
  const pets = seed();
  const document = options.document ?? PETSTORE_OPENAPI;
  let nextId = 1000;

  const authorized = (r: RecordedRequest) => {
    const key = r.headers['api_key'];
    if (typeof key === 'string' && apiKeys.has(key)) return true;
    const queryKey = r.query.api_key;
    if (typeof queryKey === 'string' && apiKeys.has(queryKey)) return true;
    const auth = r.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(auth);
    return !!m && tokens.has(m[1]!);
  };

  const provider = await startFakeProvider({
    prefix: '/api/v3',
    // As the document's security says: pets and the inventory need a credential; orders and users do not.
    gate: (r) => (/^\/api\/v3\/(pet|store\/inventory)(\/|$)/.test(r.path) && !authorized(r) ? text(401, 'Unauthorized') : undefined),
    routes: [
      { method: 'GET', path: '/openapi.json', handle: () => json(document) },
      {
        method: 'GET',
        path: '/pet/findByStatus',
        handle: (r) => {
          const status = r.query.status ?? 'available';
          const wanted = Array.isArray(status) ? status : status.split(',');
          if (!wanted.every((s) => STATUSES.has(s))) return text(400, 'Invalid status value');
          return json([...pets.values()].filter((p) => wanted.includes(p.status)));
        },
      },
      {
        method: 'GET',
        path: '/pet/findByTags',
        handle: (r) => {
          const raw = r.query.tags;
          if (raw === undefined) return text(400, 'No tags provided. Try again?');
          const tags = (Array.isArray(raw) ? raw : [raw]).flatMap((t) => t.split(','));
          return json([...pets.values()].filter((p) => p.tags.some((t) => tags.includes(t.name))));
        },
      },
      {
        method: 'GET',
        path: '/pet/:petId',
        handle: (r: FakeRequest) => {
          const petId = id(r.params.petId);
          if (petId === undefined) return text(400, 'Invalid ID supplied');
          const pet = pets.get(petId);
          return pet ? json(pet) : text(404, 'Pet not found');
        },
      },
      {
        method: 'POST',
        path: '/pet',
        handle: (r) => {
          const pet = asPet(r.body, nextId++);
          if (!pet) return text(422, 'Validation exception');
          pets.set(pet.id, pet);
          return json(pet);
        },
      },
      {
        method: 'PUT',
        path: '/pet',
        handle: (r) => {
          const pet = asPet(r.body, -1);
          if (!pet || pet.id < 0) return text(400, 'Invalid ID supplied');
          if (!pets.has(pet.id)) return text(404, 'Pet not found');
          pets.set(pet.id, pet);
          return json(pet);
        },
      },
      {
        method: 'POST',
        path: '/pet/:petId',
        handle: (r) => {
          const petId = id(r.params.petId);
          const pet = petId === undefined ? undefined : pets.get(petId);
          if (!pet) return text(petId === undefined ? 400 : 404, petId === undefined ? 'Invalid input' : 'Pet not found');
          if (typeof r.query.name === 'string') pet.name = r.query.name;
          if (typeof r.query.status === 'string' && STATUSES.has(r.query.status)) pet.status = r.query.status as Pet['status'];
          return json(pet);
        },
      },
      {
        method: 'DELETE',
        path: '/pet/:petId',
        handle: (r) => {
          const petId = id(r.params.petId);
          if (petId === undefined) return text(400, 'Invalid pet value');
          pets.delete(petId);
          return text(200, 'Pet deleted');
        },
      },
      {
        method: 'GET',
        path: '/store/inventory',
        handle: () => {
          const counts: Record<string, number> = {};
          for (const p of pets.values()) counts[p.status] = (counts[p.status] ?? 0) + 1;
          return json(counts);
        },
      },
      { method: 'POST', path: '/store/order', handle: (r) => (typeof r.body === 'object' && r.body !== null ? json({ ...ORDER, ...(r.body as object) }) : text(400, 'Invalid input')) },
      {
        method: 'GET',
        path: '/store/order/:orderId',
        handle: (r) => {
          const orderId = id(r.params.orderId);
          if (orderId === undefined) return text(400, 'Invalid ID supplied');
          return orderId === ORDER.id ? json(ORDER) : text(404, 'Order not found');
        },
      },
      {
        method: 'GET',
        path: '/user/login',
        handle: (r) => ({
          status: 200,
          headers: { 'X-Rate-Limit': '5000', 'X-Expires-After': '2026-01-15T11:00:00.000Z', 'content-type': 'application/json' },
          body: `Logged in user session: ${r.query.username === USER.username ? '7264893412' : '0'}`,
        }),
      },
      { method: 'GET', path: '/user/:username', handle: (r) => (r.params.username === USER.username ? json(USER) : text(404, 'User not found')) },
    ],
  });
  const reset = provider.reset.bind(provider);
  return Object.assign(provider, {
    apiKeys,
    tokens,
    pets,
    documentUrl: `${provider.url}/openapi.json`,
    reset() {
      reset();
      const fresh = seed();
      pets.clear();
      for (const [k, v] of fresh) pets.set(k, v);
      nextId = 1000;
    },
  });
}
