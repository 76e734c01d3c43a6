/**
 * The tags stowage writes on a snapshot, for tests that write a repository with plain restic: an
 * older format's layout (tests/restore_old_layout_test.ts), or a hostile one
 * (tests/restore_untrusted_test.ts). `extra`: the type's own tags (`volume=`, `item=`, ...).
 */
export function stowageTags(
  f: { format: number; unit: string; type: string; backupId: string; timestamp: string },
  extra: string[] = [],
  scope = "standard",
): string[] {
  return [
    "stowage",
    `format=${f.format}`,
    `unit=${f.unit}`,
    `type=${f.type}`,
    `backup_id=${f.backupId}`,
    `timestamp=${f.timestamp}`,
    `scope=${scope}`,
    ...extra,
  ];
}

/** restic's `--tag T` for each tag. */
export const tagArgs = (tags: string[]): string[] => tags.flatMap((t) => ["--tag", t]);
