import { type MessageKey, t } from '../../i18n/index.ts';

const STATUS_LABEL: Record<string, MessageKey> = {
  bot: 'statusBot',
  handoff: 'statusHandoff',
  open: 'statusOpen',
  resolved: 'statusResolved',
};

export function StatusBadge({ status }: { status: string }) {
  const label = STATUS_LABEL[status];
  return (
    <span class={`status status-${status}`} data-admin="status" data-status={status}>
      {label ? t(label) : status}
    </span>
  );
}
