// The Qdrant JS client (@qdrant/js-client-rest), unchanged, against pointlog.
// Usage: node flow.mjs <url> <collection>; prints one JSON line of what it saw.
import { QdrantClient } from "@qdrant/js-client-rest";

const [url, name] = process.argv.slice(2);
const client = new QdrantClient({ url, checkCompatibility: false });
await client.createCollection(name, { vectors: { size: 4, distance: "Dot" } });
const upsert = await client.upsert(name, {
  wait: true,
  points: [
    { id: 1, vector: [0.05, 0.61, 0.76, 0.74], payload: { city: "Berlin" } },
    { id: 2, vector: [0.19, 0.81, 0.75, 0.11], payload: { city: "London" } },
  ],
});
const retrieved = await client.retrieve(name, { ids: [2], with_vector: true });
const london = await client.scroll(name, {
  filter: { must: [{ key: "city", match: { value: "London" } }] },
});
const nearest = await client.query(name, { query: [0.2, 0.1, 0.9, 0.7], limit: 1 });
await client.setPayload(name, { payload: { seen: true }, points: [1], wait: true });
const counted = await client.count(name, { filter: { must: [{ key: "seen", match: { value: true } }] } });
await client.delete(name, { points: [1], wait: true });
const info = await client.getCollection(name);
const deleted = await client.deleteCollection(name);
console.log(JSON.stringify({
  upsert: upsert.status,
  retrieved,
  london: london.points.map((p) => p.id),
  nearest: nearest.points.map((p) => p.id),
  counted: counted.count,
  left: info.points_count,
  deleted,
}));
