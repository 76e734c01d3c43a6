import assert from "node:assert/strict";
import type { ResticSnapshot } from "../ports.ts";
import { unitsFromSnapshots } from "./units.ts";

const snap = (id: string, time: string, tags: string[]): ResticSnapshot => ({
  id,
  short_id: id,
  time,
  hostname: "h",
  paths: [],
  tags,
});

Deno.test("units: each unit with its newest backup id and snapshot count; pre-restore snapshots left out", () => {
  const units = unitsFromSnapshots([
    snap("1", "2025-01-01T00:00:00Z", [
      "stowage",
      "unit=web",
      "type=volume",
      "volume=web_data",
      "backup_id=2025-01-01T00-00-00Z",
    ]),
    snap("2", "2025-02-01T00:00:00Z", [
      "stowage",
      "unit=web",
      "type=recipe",
      "backup_id=2025-02-01T00-00-00Z",
    ]),
    snap("3", "2025-01-15T00:00:00Z", [
      "stowage",
      "unit=db",
      "type=volume",
      "volume=db_data",
      "backup_id=2025-01-15T00-00-00Z",
    ]),
    snap("4", "2025-03-01T00:00:00Z", [
      "stowage",
      "unit=db",
      "type=pre-restore",
      "volume=db_data",
      "backup_id=2025-03-01T00-00-00Z",
    ]),
    snap("5", "2025-03-01T00:00:00Z", ["other"]),
    // Tags restore refuses (core/tags.ts) do not make a unit's newest backup.
    snap("6", "2025-04-01T00:00:00Z", [
      "stowage",
      "unit=db",
      "type=volume",
      "volume=../../x",
      "backup_id=2025-04-01T00-00-00Z",
    ]),
  ]);
  assert.deepEqual(units, [
    {
      name: "db",
      latest_time: "2025-01-15T00:00:00Z",
      snapshots: 1,
      latest_backup_id: "2025-01-15T00-00-00Z",
    },
    {
      name: "web",
      latest_time: "2025-02-01T00:00:00Z",
      snapshots: 2,
      latest_backup_id: "2025-02-01T00-00-00Z",
    },
  ]);
});
