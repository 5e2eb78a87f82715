using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Server.Authentication;
using Parley.Server.Routing;

namespace Parley.Server.Connections;

/// <summary>
/// Kestrel hands every accepted TCP connection here (no thread per connection: this is an async method on the
/// thread pool). Seed 001 steps 5–6: the first frame must be a plaintext CONNECT with a valid rand_cookie; the
/// server then switches the link to sealed records and answers CONNECTED as the first of them.
/// </summary>
internal sealed class ChatConnectionHandler(
    ParleyServerOptions options, CookieJar cookies, ChatRouter router, Accounts.AccountService accounts, Messaging.DirectMessages direct,
    Messaging.RoomRegistry rooms, Accounts.KeyDirectory keyDirectory, Hosting.ServerMetrics metrics, ILogger<ChatConnectionHandler> logger)
    : ConnectionHandler
{
    private readonly ConnectionGate _logOns = new(options.MaxUnauthenticatedConnections, options.MaxUnauthenticatedPerAddress);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        metrics.Accepted();
        using var channel = new MessageChannel(connection.Transport, options.MaxFrameBytes, metrics);
        SessionKeys? keys;

        // Issue #9 (slowloris): connections still owing their CONNECT are counted apart, so idle or dribbling ones
        // hold a bounded number of slots, each only for the connect timeout; logged-on clients never wait on them.
        var source = (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address ?? System.Net.IPAddress.None;
        if (!_logOns.TryEnter(source))
        {
            // Logged at Debug: whoever fills the slots must not also fill the log. The accepted-connections counter
            // still shows the attempts.
            await RefuseAsync(channel, ErrorCodes.ServerBusy, "Too many connections are logging on at once; try again shortly.", connection,
                LogLevel.Debug).ConfigureAwait(false);
            return;
        }

        try
        {
            keys = await AcceptConnectAsync(connection, channel).ConfigureAwait(false);
        }
        finally
        {
            _logOns.Exit(source);
        }

        if (keys is null)
        {
            return;
        }

        channel.Protect(send: keys.ServerToClient, receive: keys.ClientToServer);
        if (!accounts.IsCurrent(keys.ClientId, keys.Generation))
        {
            // Checked before Join, which would log the current session of this ID off.
            await RefuseAsync(channel, ErrorCodes.PasswordReset, "Your account was removed or its password changed; log on again.", connection).ConfigureAwait(false);
            return;
        }

        var client = new ClientConnection(keys.ClientId, keys.Generation, connection, channel, router, accounts, direct, rooms, keyDirectory, metrics, options, logger);

        // Seed 002: the client shows the unread DMs waiting, per sender, at log-on. Read before Join because CONNECTED
        // must be the first record; a DM committed between the two is missing from these counts only — it is stored
        // unread, so the conversation view and the next log-on's counts show it (docs/PROTOCOL.md §11).
        var unread = await direct.UnreadAsync(keys.ClientId, connection.ConnectionClosed).ConfigureAwait(false);

        // Whole seconds on the wire: the activity timeout rounds up (the server's own bound fires first), the
        // keep-alive interval rounds down (the client pings a little early, never late).
        client.TryEnqueue(new Connected(keys.ClientId, (int)Math.Ceiling(options.ActivityTimeout.TotalSeconds),
            (int)options.KeepAliveInterval.TotalSeconds, options.MaxMessageBytes, options.ScramIterations, options.MinPasswordLength,
            unread.Length > 0 ? unread : null));
        router.Join(client);

        // The account may have been removed or reset between AUTH_SUCCESS and now; the watcher only sees later changes.
        accounts.CloseIfStale(client);
        await client.RunAsync().ConfigureAwait(false);
    }

    private async Task<SessionKeys?> AcceptConnectAsync(ConnectionContext connection, MessageChannel channel)
    {
        ParleyMessage? first;

        // Kestrel asks connections to close at shutdown through this feature; one still waiting for CONNECT must go too.
        var shutdown = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, shutdown);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            first = await channel.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (ProtocolException e)
        {
            await RefuseAsync(channel, e.Code, e.Message, connection).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException)
        {
            first = null; // timed out, reset, or shut down: as silent as a clean end
        }

        if (first is null)
        {
            // Nothing came, or nothing whole: nobody to tell (PROTOCOL §7.3, a silent close).
            logger.LogInformation("Connection {ConnectionId} closed before CONNECT", connection.ConnectionId);
            return null;
        }

        if (first is not Connect connect)
        {
            await RefuseAsync(channel, ErrorCodes.NotAllowed, "The first message on a TCP connection must be CONNECT.", connection).ConfigureAwait(false);
            return null;
        }

        var keys = cookies.TryRedeem(connect.ClientId, connect.RandCookie);
        if (keys is null)
        {
            await RefuseAsync(channel, ErrorCodes.CookieInvalid,
                "That cookie is unknown, already used, expired or not yours; log on again.", connection).ConfigureAwait(false);
        }

        return keys;
    }

    private async Task RefuseAsync(MessageChannel channel, string code, string text, ConnectionContext connection, LogLevel level = LogLevel.Information)
    {
        logger.Log(level, "Refused connection {ConnectionId}: {Code}", connection.ConnectionId, code);

        try
        {
            await channel.SendAsync(new Error(code, text), connection.ConnectionClosed).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ConnectionResetException or InvalidOperationException)
        {
            // The peer is already gone; nothing more to tell it.
        }
    }
}
