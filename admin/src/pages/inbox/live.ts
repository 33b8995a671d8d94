// The inbox's live-chat parts (presence, read receipts, handoff facts), loaded as one chunk after
// the inbox itself so they do not add to the first load.
export { PresenceBar } from './presence.tsx';
export { HandoffFacts, VisitorReceipt } from './receipt.tsx';
