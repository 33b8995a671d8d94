import { Component, type ComponentChildren } from 'preact';

// One message that cannot be drawn (a shape nobody foresaw) is left out on its own; without
// this, Preact unmounts the whole tree above the error and the log stays empty for good.

interface Props {
  children: ComponentChildren;
  /** What stands in for the part that failed. */
  fallback?: ComponentChildren;
}

export class Isolate extends Component<Props, { failed: boolean }> {
  override state = { failed: false };
  static override getDerivedStateFromError() {
    return { failed: true };
  }
  override componentDidCatch(error: unknown) {
    console.warn('[parley] a message could not be shown', error);
  }
  override render() {
    return this.state.failed ? (this.props.fallback ?? null) : this.props.children;
  }
}
