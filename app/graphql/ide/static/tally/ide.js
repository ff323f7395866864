// Tally's GraphiQL bootstrap: a bearer-token field feeding every request, example tabs,
// subscriptions over graphql-transport-ws on the same URL. Loaded by /graphql's page
// (app/graphql/ide/page.py) after React, ReactDOM, GraphiQL and the explorer plugin.
"use strict";

(function () {
  const TOKEN_KEY = "tally.graphiql.token";
  const mount = document.getElementById("graphiql");
  const field = document.getElementById("tally-token");
  const info = document.getElementById("tally-token-info");
  const clear = document.getElementById("tally-token-clear");

  const endpoint = new URL(mount.dataset.endpoint, window.location.href);
  const socket = new URL(endpoint.href);
  socket.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

  function readToken() {
    let raw = "";
    try {
      raw = window.sessionStorage.getItem(TOKEN_KEY) || "";
    } catch (_) {
      raw = field.value;
    }
    return raw.trim().replace(/^bearer\s+/i, "");
  }

  function saveToken(value) {
    try {
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value.trim());
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      // Storage refused (private mode): the field still holds it for this page.
    }
  }

  // What the token says about itself, so a partner sees which kind they pasted.
  // Display only: the server checks the signature, audience and expiry.
  function describe(token) {
    if (!token) return "no token: requests will be refused (401)";
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const claims = JSON.parse(window.atob(part));
      const who = claims.client_id ? "partner " + claims.client_id : "member " + claims.sub;
      const left = Math.round((claims.exp * 1000 - Date.now()) / 60000);
      const expiry = left > 0 ? "expires in " + left + " min" : "expired";
      return who + " · " + (claims.scope || "no scopes") + " · " + expiry;
    } catch (_) {
      return "not a JWT: the server will refuse it";
    }
  }

  // A new fetcher per token: GraphiQL fetches the schema again when its fetcher changes.
  // A header typed in GraphiQL's headers pane overrides the token field's.
  function makeFetcher(token) {
    const auth = token ? { Authorization: "Bearer " + token } : {};
    return GraphiQL.createFetcher({
      url: endpoint.href,
      subscriptionUrl: socket.href,
      headers: auth,
      wsConnectionParams: auth,
    });
  }

  const now = new Date().toISOString();
  const EXAMPLES = [
    {
      query: [
        "# Member token: your balance, tier and the rewards you can redeem.",
        "query MyBalance {",
        "  viewer {",
        "    externalId",
        "    balance { available pending held version }",
        "    tier { current { name } pointsToNext progress }",
        "    availableRewards(first: 5) {",
        "      edges { node { canRedeem reason reward { key name cost } } }",
        "    }",
        "  }",
        "}",
        "",
      ].join("\n"),
    },
    {
      query: [
        "# Any token with rewards:read (member tokens have it): the catalog.",
        "query Rewards {",
        "  rewards(first: 20) {",
        "    edges { node { id key name description cost remainingStock minTier active } }",
        "  }",
        "}",
        "",
      ].join("\n"),
    },
    {
      query: [
        "# Partner token with points:write. Running it again with the same idempotencyKey",
        "# returns the first answer; change key and orderId for a new purchase.",
        "mutation RecordPurchase($key: String!, $input: RecordPurchaseInput!) {",
        "  recordPurchase(idempotencyKey: $key, input: $input) {",
        "    pointsEarned",
        "    pending",
        "    balance { available pending version }",
        "    userErrors { field code message }",
        "  }",
        "}",
        "",
      ].join("\n"),
      variables: JSON.stringify(
        {
          key: "graphiql-order-5531",
          input: {
            externalId: "demo-alice",
            orderId: "graphiql-5531",
            amount: "23.80",
            currency: "EUR",
            channel: "POS",
            occurredAt: now,
          },
        },
        null,
        2,
      ),
    },
    {
      query: [
        "# Member token: every change of your balance, live (graphql-transport-ws).",
        "# Record a purchase for this member in another tab and watch it arrive.",
        "subscription LiveBalance {",
        "  balanceChanged {",
        "    version kind delta pendingDelta reference",
        "    balance { available pending held version }",
        "  }",
        "}",
        "",
      ].join("\n"),
    },
  ];

  const plugins = window.GraphiQLPluginExplorer
    ? [window.GraphiQLPluginExplorer.explorerPlugin()]
    : [];
  const root = ReactDOM.createRoot(mount);

  function render() {
    const token = readToken();
    info.textContent = describe(token);
    root.render(
      React.createElement(GraphiQL, {
        fetcher: makeFetcher(token),
        // No token, no introspection (it would be a 401); a token fetches the schema.
        schema: token ? undefined : null,
        defaultTabs: EXAMPLES,
        plugins: plugins,
        shouldPersistHeaders: false,
        defaultEditorToolsVisibility: "variables",
      }),
    );
  }

  let pending = null;
  field.addEventListener("input", function () {
    saveToken(field.value);
    window.clearTimeout(pending);
    pending = window.setTimeout(render, 300);
  });
  clear.addEventListener("click", function () {
    field.value = "";
    saveToken("");
    render();
  });

  field.value = readToken();
  render();
})();
