/**
 * A one-second tick for the elapsed clock and the time-left estimate, as a reactive
 * controller so the timer can never outlive the element: it stops on disconnect.
 */
import type { ReactiveController, ReactiveControllerHost } from "lit";

export class ClockController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  #timer: ReturnType<typeof setInterval> | undefined;
  #wanted = false;
  #connected = false;
  now = Date.now();

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  /** Ticks while `running` is true (and the host is connected). */
  set running(running: boolean) {
    this.#wanted = running;
    this.#sync();
  }

  hostConnected(): void {
    this.#connected = true;
    this.#sync();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#sync();
  }

  #sync(): void {
    const run = this.#wanted && this.#connected;
    if (run && this.#timer === undefined) {
      this.now = Date.now();
      this.#timer = setInterval(() => {
        this.now = Date.now();
        this.#host.requestUpdate();
      }, 1000);
    } else if (!run && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
