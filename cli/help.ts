/**
 * The Examples section of every command's `--help`: real command lines, each with what it does as
 * a shell comment, so a line can be copied as it is. One table for every command, so none is
 * forgotten (cli/help_test.ts walks the program and fails for a command without examples, and for
 * an example that uses an option its command does not have).
 */

/** `[command line, what it does]`. */
export type Example = [string, string];

/** By command path ("" is `stowage` itself). */
export const EXAMPLES: Record<string, Example[]> = {
  "": [
    ["stowage setup", "first run: dependencies, config, repository"],
    ["stowage doctor", "is everything healthy?"],
    ["stowage backup", "back up every stack and standalone container"],
    ["stowage restore", "the restore wizard (on a terminal)"],
    ["stowage backup --help", "every command has its own help"],
  ],
  "version": [
    ["stowage version", "the version"],
    ["stowage version --json", "with the backup format and hooks SDK versions"],
  ],
  "setup": [
    ["stowage setup", "on a terminal: a wizard asks for the backend and what it needs"],
    ["stowage setup --yes", "the embedded default: a local repository under the state directory"],
    [
      "stowage setup --repository sftp:backup@nas:/srv/restic --ssh-key /root/.ssh/id_ed25519",
      "an SFTP repository, its host key shown and asked about",
    ],
    [
      "stowage setup --repository rest:http://nas:8000/ --yes --json",
      "a REST server, no questions, a JSON document",
    ],
  ],
  "backup": [
    ["stowage backup", "every unit, with the config's scope (default: standard)"],
    ["stowage backup --unit nextcloud --unit wiki", "only these units"],
    ["stowage backup --scope minimal", "volumes only"],
    ["stowage backup --wait 300", "queue behind a running backup for up to 300 s"],
    ["stowage backup --dry-run", "the plan with sizes; changes nothing"],
    ["stowage backup --json > report.json", "the summary as one JSON document"],
  ],
  "verify": [
    ["stowage verify --latest", "every unit's newest backup, each in a sandbox"],
    ["stowage verify --unit shop --backup-id 2025-01-31T23-59-59Z", "one restore point"],
    ["stowage verify --unit shop --keep", "leave the sandbox up to look at it"],
    ["stowage verify --cleanup", "remove the sandboxes --keep or a killed run left"],
  ],
  "restore": [
    ["stowage restore", "the wizard (on a terminal)"],
    ["stowage restore --list", "the units the repository holds"],
    ["stowage restore --unit shop --list", "a unit's restore points"],
    ["stowage restore --unit shop --latest --dry-run", "the whole plan, nothing changed"],
    ["stowage restore --unit shop --latest --start --yes", "everything back, then started"],
    [
      "stowage restore --unit shop --backup-id 2025-01-31T23-59-59Z --only volumes --stop --yes",
      "only the volumes of one restore point",
    ],
    ["stowage restore --unit shop --latest --to-dir /tmp/shop --yes", "files only, to look at"],
    ["stowage restore --unit shop --latest --from offsite --yes", "from a copy (docs/copies.md)"],
    [
      "stowage restore --unit shop --latest --only dumps --database shop --yes",
      "load one database dump back into its running container",
    ],
  ],
  "disaster-recovery": [
    ["stowage disaster-recovery", "a bundle in the default directory, its password shown once"],
    [
      "stowage disaster-recovery --password-file /root/bundle.pw --output /mnt/usb",
      "with your own password, onto a USB stick",
    ],
    [
      "stowage disaster-recovery --password-file /root/bundle.pw --stream | ssh backup@other 'cat > dr.tar.gz.enc'",
      "straight to another host",
    ],
    [
      "stowage disaster-recovery verify /mnt/usb/stowage-recovery-2025-01-31T23-59-59Z.tar.gz.enc",
      "check a bundle",
    ],
  ],
  "disaster-recovery open": [
    ["stowage disaster-recovery open BUNDLE", "decrypt, check and extract to look at"],
    [
      "stowage disaster-recovery open BUNDLE --install",
      "on a new host: config, password and keys where they belong",
    ],
    [
      "stowage disaster-recovery open BUNDLE --password-file /root/bundle.pw --install --yes",
      "the same in a script",
    ],
  ],
  "disaster-recovery verify": [
    ["stowage disaster-recovery verify BUNDLE", "asks for the password, checks every file"],
    [
      "stowage disaster-recovery verify BUNDLE --password-file /root/bundle.pw --json",
      "in a script",
    ],
  ],
  "dry-run": [
    ["stowage dry-run", "what a backup would stop and save, with sizes"],
    ["stowage dry-run --unit nextcloud --scope full", "one unit, everything it could save"],
    ["stowage dry-run --json", "the plan as one JSON document"],
  ],
  "doctor": [
    ["stowage doctor", "every check; exit 0 when healthy, 19 when not"],
    ["stowage doctor --json", "the checks as one JSON document, for monitoring"],
  ],
  "admin": [
    ["stowage admin config show", "the effective config, secrets hidden"],
    ["stowage admin repo status", "the repository and what it holds"],
    ["stowage admin snapshot list", "units and their restore points"],
    ["stowage admin service write-units", "systemd units for nightly backups"],
  ],
  "admin config": [
    ["stowage admin config show", "the effective config, secrets hidden"],
    ["stowage admin config edit", "edit it; an invalid result is not saved"],
    ["stowage admin config validate /tmp/new.yaml", "check a file before using it"],
  ],
  "admin config show": [
    ["stowage admin config show", "the effective config with defaults, secrets hidden"],
    ["stowage admin config show --json", "as JSON"],
  ],
  "admin config new": [
    ["stowage admin config new", "on a terminal: asks for the backend and what it needs"],
    [
      "stowage admin config new --repository /srv/restic --scope full",
      "a local repository, full scope",
    ],
    ["stowage admin config new --force --repository s3:s3.amazonaws.com/bucket", "replace it"],
  ],
  "admin config edit": [
    ["stowage admin config edit", "in $VISUAL or $EDITOR (default vi)"],
    ["EDITOR=nano stowage admin config edit", "with another editor"],
  ],
  "admin config reset": [
    ["stowage admin config reset", "back to the defaults; asks first, keeps a copy"],
    ["stowage admin config reset --yes", "without asking"],
  ],
  "admin config schema": [
    ["stowage admin config schema > stowage.schema.json", "the JSON Schema, for editors"],
  ],
  "admin config validate": [
    ["stowage admin config validate", "the config in use"],
    ["stowage admin config validate /tmp/new.yaml --json", "another file; every problem listed"],
  ],
  "admin repo": [
    ["stowage admin repo init", "create the configured repository"],
    ["stowage admin repo check", "check its structure"],
  ],
  "admin repo init": [
    ["stowage admin repo init", "create the configured repository"],
    ["stowage admin repo init --json", "as JSON"],
  ],
  "admin repo status": [
    ["stowage admin repo status", "location, size and snapshots"],
    ["stowage admin repo status --json", "as JSON"],
  ],
  "admin repo unlock": [
    ["stowage admin repo unlock", "remove stale locks a killed restic left"],
  ],
  "admin repo check": [
    ["stowage admin repo check", "check the repository's structure"],
    ["stowage admin repo check --read-data", "also read and verify every pack (slow)"],
  ],
  "admin service": [
    ["stowage admin service write-units", "systemd units for nightly backups"],
    ["stowage admin service status --check", "for monitoring: exit 19 when a backup is stale"],
  ],
  "admin service write-units": [
    ["stowage admin service write-units", "stowage.service and stowage.timer, nightly"],
    [
      "stowage admin service write-units --schedule '*-*-* 03:30:00' --dry-run",
      "print them with another schedule",
    ],
    [
      "stowage admin service write-units --binary /usr/local/bin/stowage --output-dir /tmp/units",
      "for a compiled binary, somewhere else",
    ],
  ],
  "admin service daemon": [
    ["stowage admin service daemon", "what systemd runs: watch, notify, recover"],
    [
      "stowage admin service daemon --interval-minutes 60 --status-listen 127.0.0.1:9810",
      "hourly backups and a status endpoint",
    ],
  ],
  "admin service status": [
    ["stowage admin service status", "each unit's last backup"],
    ["stowage admin service status --check", "exit 19 when one failed or is too old"],
  ],
  "admin service forget-unit": [
    ["stowage admin service forget-unit oldshop", "drop a removed unit's results"],
  ],
  "admin system": [
    ["stowage admin system show-deps", "which programs are there, which are missing"],
    ["stowage admin system install-deps --dry-run", "what would be installed"],
  ],
  "admin system recover-journal": [
    ["stowage admin system recover-journal", "start what a crashed run left stopped"],
  ],
  "admin system show-deps": [
    ["stowage admin system show-deps", "each program, its version and whether it is enough"],
    ["stowage admin system show-deps --json", "as JSON"],
  ],
  "admin system install-deps": [
    ["stowage admin system install-deps --dry-run", "what would be installed"],
    ["stowage admin system install-deps --yes", "install it (Debian/Ubuntu, apt-get)"],
  ],
  "admin snapshot": [
    ["stowage admin snapshot list", "units and their restore points"],
    ["stowage admin snapshot estimate-size", "how big a backup would be"],
  ],
  "admin snapshot list": [
    ["stowage admin snapshot list", "this host's restore points with sizes"],
    ["stowage admin snapshot list --unit nextcloud --no-sizes", "one unit, faster"],
    ["stowage admin snapshot list --all-hosts --json", "every host's, as JSON"],
  ],
  "admin snapshot estimate-size": [
    ["stowage admin snapshot estimate-size", "every unit with the config's scope"],
    ["stowage admin snapshot estimate-size --unit nextcloud --scope full", "one unit, full scope"],
  ],
  "admin hooks": [
    ["stowage admin hooks init /etc/stowage/hooks", "example hooks to start from"],
    ["stowage admin hooks check", "load and check the configured hooks"],
  ],
  "admin hooks init": [
    ["stowage admin hooks init /etc/stowage/hooks", "write example hooks there"],
    ["stowage admin hooks init /etc/stowage/hooks --force", "overwrite existing files"],
  ],
  "admin hooks check": [
    ["stowage admin hooks check", "load every configured hook and check its exports"],
  ],
  "admin hooks list": [
    ["stowage admin hooks list", "every hook and where it runs"],
    ["stowage admin hooks list --unit nextcloud --phase pre_backup", "one unit, one phase"],
  ],
  "admin notify": [
    ["stowage admin notify test", "send a test message to every notify: target"],
  ],
  "admin notify test": [
    ["stowage admin notify test", "a test message to every target, each result listed"],
    ["stowage admin notify test --target ops --json", "one target, the result as JSON"],
  ],
};

/** `[command line, what it does]` pairs as an `Examples:` block: each comment above its command. */
export function examplesText(list: Example[]): string {
  return `\nExamples:\n${list.map(([command, why]) => `  # ${why}\n  ${command}`).join("\n\n")}`;
}

interface HelpCommand {
  name(): string;
  commands: readonly HelpCommand[];
  addHelpText(position: "after", text: string): unknown;
}

/** Adds each command's examples to its help; `path` is the command path of `cmd`. */
export function addExamples(cmd: HelpCommand, path = ""): void {
  const list = EXAMPLES[path];
  if (list) cmd.addHelpText("after", examplesText(list));
  for (const sub of cmd.commands) addExamples(sub, path ? `${path} ${sub.name()}` : sub.name());
}
