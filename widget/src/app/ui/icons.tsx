// Inline icons: decorative, their buttons carry the labels.
const icon = (d: string) => (
  <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <path d={d} />
  </svg>
);

export const CloseIcon = () => icon('M6 6l12 12M18 6L6 18');
export const SendIcon = () => icon('M4 12l16-8-6 16-2.5-6.5z M11.5 13.5L20 4');
export const NewIcon = () => icon('M12 5v14M5 12h14');
export const ThumbUpIcon = () =>
  icon('M7 11v9H4v-9zM7 11l4-8a2 2 0 0 1 3 2l-1 5h6a2 2 0 0 1 2 2.3l-1.3 6.4A2 2 0 0 1 17.7 20H7');
export const ThumbDownIcon = () =>
  icon('M17 13V4h3v9zM17 13l-4 8a2 2 0 0 1-3-2l1-5H5a2 2 0 0 1-2-2.3l1.3-6.4A2 2 0 0 1 6.3 4H17');
