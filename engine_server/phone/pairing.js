"use strict";
/**
 * The phone page's pairing and connection (issue 7): the link's one-time token traded for a
 * phone-scoped credential of its own (kept in localStorage), a reconnect with it on load and
 * whenever the page needs the engine, and the connection line that says how that went.
 * The methods are PhonePage's (phone.js puts them together).
 */
(function register(root, factory) {
  if (typeof module === "object" && module !== null && module.exports) module.exports = factory();
  else (root.softcutPhoneScripts = root.softcutPhoneScripts || {}).pairing = factory();
})(globalThis, function pairing() {
  /** Who the phone is in `pair` and `hello`. */
  const CLIENT = Object.freeze({ name: "softcut-phone", version: "0.1.0" });
  /** Where the phone's credential ("<id>.<secret>", scope phone) is kept (localStorage is per engine origin: ip:port). */
  const TOKEN_KEY = "softcut.phone.token";

  /**
   * The one-time pairing token of a page address's fragment (`#t=…`).
   * @param {string} hash `location.hash`, e.g. `#t=abc`
   * @returns {string|null}
   */
  function fragmentToken(hash) {
    const token = new URLSearchParams(String(hash).replace(/^#/, "")).get("t");
    return token ? token : null;
  }

  /**
   * Where the engine's WebSocket is: the host and port that served this page.
   * @param {{hostname: string, port: string, protocol: string}} location the page's location
   * @returns {{host: string, port: number}} the host without IPv6 brackets
   */
  function engineAddress(location) {
    const host = location.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = location.port ? Number(location.port) : location.protocol === "https:" ? 443 : 80;
    return { host, port };
  }

  /** PhonePage's methods that pair and connect. */
  const methods = {
    /** @returns {string} the line for an engine that cannot be reached */
    unreachableText() {
      return `Can't reach Softcut on ${this.host} — is \`softcut serve --lan\` running and the phone on the same network?`;
    },

    /** Connect on load: with the fragment's one-time token, else with a saved token. */
    async start() {
      this.bindControls();
      if (this.modules === null) {
        this.showConnection("error", this.unreachableText());
        return;
      }
      const oneTime = fragmentToken(this.window.location.hash);
      if (oneTime !== null) {
        this.window.history.replaceState(null, "", this.window.location.pathname + this.window.location.search);
        await this.pair(oneTime);
      } else {
        await this.reconnect();
      }
      this.window.document.addEventListener("visibilitychange", () => {
        if (this.window.document.visibilityState === "visible" && !this.busy) this.reconnect();
      });
    },

    /** @returns {object} a new EngineClient for the engine that served the page */
    newClient() {
      const { host, port } = engineAddress(this.window.location);
      const client = new this.modules.client.EngineClient({
        host,
        port,
        WebSocket: this.window.WebSocket,
        client: CLIENT,
        onClose: () => {
          if (this.client === client) this.connectionLost();
        },
      });
      return client;
    },

    /**
     * Trade the one-time token for a phone-scoped credential of this phone's own (kept in localStorage).
     * @param {string} oneTime the fragment's token
     */
    async pair(oneTime) {
      this.showConnection("connecting", `Pairing with Softcut on ${this.host}…`);
      const client = this.newClient();
      try {
        const { credential } = await client.pair(oneTime);
        this.window.localStorage.setItem(TOKEN_KEY, credential);
        this.connected(client);
      } catch (error) {
        if (this.isUnauthorized(error)) {
          // An old link on a phone that is paired already: its saved token still does.
          if (this.window.localStorage.getItem(TOKEN_KEY) && (await this.reconnect())) return;
          this.showConnection("unpaired", "Not paired: this link was already used or has expired — scan the new QR code `softcut serve --lan` shows.");
        } else {
          this.connectionFailed(error);
        }
      }
    },

    /**
     * Connect with the saved token unless already connected (one attempt at a time).
     * @returns {Promise<boolean>} whether the page is connected now
     */
    reconnect() {
      if (this.client !== null && this.client.connected) return Promise.resolve(true);
      if (this.connecting === null) {
        this.connecting = this.connectWithSavedToken().finally(() => {
          this.connecting = null;
        });
      }
      return this.connecting;
    },

    /**
     * Connect with the saved token; the connection line says how it went.
     * @returns {Promise<boolean>} whether the page is connected now
     */
    async connectWithSavedToken() {
      const token = this.window.localStorage.getItem(TOKEN_KEY);
      if (!token) {
        this.showConnection("unpaired", "Not paired: scan the QR code `softcut serve --lan` shows.");
        return false;
      }
      this.showConnection("connecting", `Connecting to Softcut on ${this.host}…`);
      const client = this.newClient();
      try {
        await client.connect(token);
        this.connected(client);
        return true;
      } catch (error) {
        if (this.isUnauthorized(error)) {
          this.window.localStorage.removeItem(TOKEN_KEY);
          this.showConnection("unpaired", "Not paired: Softcut no longer knows this phone — scan the QR code `softcut serve --lan` shows.");
        } else {
          this.connectionFailed(error);
        }
        return false;
      }
    },

    /** @returns {boolean} whether the engine refused the token (or the one-time token) */
    isUnauthorized(error) {
      return error instanceof this.modules.client.EngineError && error.code === "unauthorized";
    },

    /** @param {object} client the EngineClient that completed its handshake */
    connected(client) {
      this.client = client;
      this.showConnection("paired", `Paired with Softcut on ${this.host}`);
      this.updateControls();
    },

    /** @param {Error} error why connecting failed */
    connectionFailed(error) {
      const { EngineImpostor, EngineUnavailable } = this.modules.client;
      const unavailable = error instanceof EngineUnavailable && !(error instanceof EngineImpostor);
      this.showConnection("error", unavailable ? this.unreachableText() : `Softcut on ${this.host} refused the connection: ${error.message}`);
      this.updateControls();
    },

    /** The engine closed an established connection. */
    connectionLost() {
      this.showConnection("error", `The connection to Softcut on ${this.host} was lost — it reconnects when you take the next photo.`);
      this.updateControls();
    },
  };

  return { CLIENT, TOKEN_KEY, fragmentToken, engineAddress, methods };
});
