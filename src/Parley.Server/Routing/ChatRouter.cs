using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Server.Connections;
using Parley.Storage;

namespace Parley.Server.Routing;

/// <summary>
/// Presence and chat sessions (seed 001 "Client A Initiates Chat Session to B"). One lock guards who is online and
/// who is in which session; every operation under it is O(1) and never waits, so the lock is never held across I/O.
/// Chat bodies are stored by <see cref="HistoryWriter"/> and relayed only after their commit; the router never reads
/// a body. CHAT_STARTED and END_NOTIF are sent through the writer's ordering barrier, so each client sees a session's
/// start, its messages and its end in that order.
/// </summary>
internal sealed class ChatRouter(ParleyServerOptions options, HistoryWriter history, MessageStore messages, TimeProvider time,
    Hosting.ServerMetrics metrics, ILogger<ChatRouter> logger)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClientConnection> _online = new(ClientIds.Comparer);
    private readonly Dictionary<string, ChatSession> _sessions = new(StringComparer.Ordinal);
    private bool _shuttingDown;

    public ClientConnection[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _online.Values];
        }
    }

    /// <summary>Clients online and sessions open, read by the metrics at scrape time.</summary>
    public (int Online, int Sessions) Counts()
    {
        lock (_gate)
        {
            return (_online.Count, _sessions.Count);
        }
    }

    /// <summary>Who is online now (seed 002 "!LIST", issue #3): a copy, so presence changes show in the next listing.</summary>
    public HashSet<string> OnlineIds()
    {
        lock (_gate)
        {
            return new HashSet<string>(_online.Keys, ClientIds.Comparer);
        }
    }

    /// <summary>The connection <paramref name="clientId"/> is online with, if any (any letter case).</summary>
    public ClientConnection? TryGetOnline(string clientId)
    {
        lock (_gate)
        {
            return _online.GetValueOrDefault(clientId);
        }
    }

    /// <summary>The chat sessions in progress, for the operator's <c>sessions</c> command (issue #7).</summary>
    public ChatSession[] Sessions()
    {
        lock (_gate)
        {
            return [.. _sessions.Values];
        }
    }

    /// <summary>
    /// Marks a client online. A second log-on of the same ID replaces the first, which is told why. Once shutdown has
    /// begun nobody joins: a client that redeemed its cookie just before is told the server is going away.
    /// </summary>
    public void Join(ClientConnection connection)
    {
        ClientConnection? previous;
        lock (_gate)
        {
            if (_shuttingDown)
            {
                connection.Close("server shutting down", ClientConnection.ShuttingDownNotice);
                return;
            }

            _online.TryGetValue(connection.ClientId, out previous);
            _online[connection.ClientId] = connection;
        }

        previous?.Close("logged on elsewhere", new Error(ErrorCodes.LoggedOnElsewhere, "You logged on from another client; this one is disconnected."));
        logger.LogInformation("{ClientId} connected", connection.ClientId);
    }

    /// <summary>Marks a client offline and ends its session; the peer gets END_NOTIF (seed 001, issue #2).</summary>
    public async ValueTask LeaveAsync(ClientConnection connection)
    {
        (ClientConnection Peer, EndNotif Notice)? ended;
        lock (_gate)
        {
            if (_online.TryGetValue(connection.ClientId, out var current) && ReferenceEquals(current, connection))
            {
                _online.Remove(connection.ClientId);
            }

            ended = EndSessionLocked(connection, EndReasons.PeerLeft);
        }

        await NotifyEndAsync(ended).ConfigureAwait(false);
    }

    /// <summary>
    /// Graceful shutdown (issue #7): no one joins or starts a chat any more; every client stops reading requests and
    /// finishes the one in hand, so a CHAT or DM already received is stored and relayed or acknowledged; then every
    /// session ends with END_NOTIF to both parties (behind the last relayed CHAT), and every client is told
    /// SHUTTING_DOWN and closed. Returns when all that is queued. A request not finished by <paramref name="drain"/>
    /// (one waiting for a peer that stopped reading, say) is abandoned, so that it holds up neither the others' END_NOTIF
    /// nor their notices; only <paramref name="deadline"/> (a commit waiting for a stuck disk) ends sessions without END_NOTIF.
    /// </summary>
    public async Task ShutdownAsync(CancellationToken drain, CancellationToken deadline)
    {
        ClientConnection[] clients;
        lock (_gate)
        {
            _shuttingDown = true;
            clients = [.. _online.Values];
        }

        foreach (var client in clients)
        {
            client.StopReading();
        }

        var reading = Task.WhenAll(clients.Select(c => c.ReadingStopped));
        try
        {
            await reading.WaitAsync(drain).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            var stuck = clients.Where(c => !c.ReadingStopped.IsCompleted).ToArray();
            logger.LogWarning("Shutdown: abandoning {Count} requests still in progress at half the shutdown timeout", stuck.Length);
            foreach (var client in stuck)
            {
                client.AbandonRequest();
            }

            // An abandoned request ends at once (its waits are cancelled); this only bounds a loop that never ran.
            await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(1), deadline)).ConfigureAwait(false);
        }

        List<(ClientConnection, EndNotif)> notices = [];
        lock (_gate)
        {
            foreach (var session in _sessions.Values.ToArray())
            {
                if (EndSessionLocked(session.A, EndReasons.ServerShutdown) is var (peer, notice))
                {
                    notices.Add((session.A, notice));
                    notices.Add((peer, notice));
                }
            }
        }

        // AfterPendingAsync returns once the action is queued; wait until it has run, so END_NOTIF precedes SHUTTING_DOWN.
        var notified = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await history.AfterPendingAsync(() =>
            {
                foreach (var (client, notice) in notices)
                {
                    client.TryEnqueue(notice);
                }

                notified.TrySetResult();
            }, deadline).ConfigureAwait(false);
            await notified.Task.WaitAsync(deadline).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Shutdown: history was still being committed at the deadline; sessions end without END_NOTIF");
        }

        foreach (var client in clients)
        {
            client.Close("server shutting down", ClientConnection.ShuttingDownNotice);
        }
    }

    /// <summary>Seed 001 chat phase step 1. Returns the reply for the requester alone (an ERROR or UNREACHABLE), if any.</summary>
    public async ValueTask<ParleyMessage?> RequestChatAsync(ClientConnection from, string peerId)
    {
        ChatSession session;
        if (!ClientIds.IsValid(peerId))
        {
            return new Error(ErrorCodes.InvalidClientId, ClientIds.Rule);
        }

        lock (_gate)
        {
            if (from.Session is not null)
            {
                return new Error(ErrorCodes.AlreadyInSession, "You are already in a chat; end it first.");
            }

            if (ClientIds.Comparer.Equals(peerId, from.ClientId))
            {
                return new Error(ErrorCodes.NotAllowed, "You cannot chat with yourself.");
            }

            // Seed 001: UNREACHABLE when B is not connected or "already engaged in another chat session".
            if (_shuttingDown || !_online.TryGetValue(peerId, out var peer) || peer.Session is not null)
            {
                return new Unreachable(peerId);
            }

            session = new ChatSession(NewSessionId(), from, peer, time.GetUtcNow());
            _sessions.Add(session.Id, session);
            from.Session = session;
            peer.Session = session;
        }

        logger.LogInformation("Chat session started between {ClientId} and {PeerId}", from.ClientId, peerId);
        metrics.SessionStarted();

        // Not cancellable: once the session exists, both parties are owed the notice whatever happens to this request.
        await history.AfterPendingAsync(() =>
        {
            session.A.TryEnqueue(new ChatStarted(session.Id, session.B.ClientId));
            session.B.TryEnqueue(new ChatStarted(session.Id, session.A.ClientId));
        }, CancellationToken.None).ConfigureAwait(false);
        return null;
    }

    /// <summary>Seed 001 chat phase steps 2–3. Returns an ERROR for the requester if the session is not theirs.</summary>
    public async ValueTask<ParleyMessage?> EndChatAsync(ClientConnection from, string sessionId)
    {
        (ClientConnection Peer, EndNotif Notice)? ended = null;
        lock (_gate)
        {
            if (from.Session?.Id == sessionId)
            {
                ended = EndSessionLocked(from, EndReasons.Ended);
            }
            else if (from.LastEndedSessionId != sessionId)
            {
                // An END_REQUEST crossing the peer's END_NOTIF is not an error; any other unknown session is.
                return new Error(ErrorCodes.NotInSession, "You are not in that chat session.");
            }
        }

        await NotifyEndAsync(ended).ConfigureAwait(false);
        return null;
    }

    /// <summary>Stores a CHAT durably, then relays it to the other party only (seed 001 step 1, "Chat History").</summary>
    public async ValueTask RelayAsync(ClientConnection from, Chat chat, CancellationToken cancellationToken)
    {
        ClientConnection? peer;
        lock (_gate)
        {
            peer = from.Session is { } session && session.Id == chat.SessionId ? session.PeerOf(from) : null;
        }

        if (peer is null)
        {
            await from.ReplyAsync(new Error(ErrorCodes.NotInSession, "That chat has ended; your message was not delivered."), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (options.CheckMessageSize(chat.Message) is { } tooLarge)
        {
            await from.ReplyAsync(tooLarge, cancellationToken).ConfigureAwait(false);
            return;
        }

        var bytes = OutboundSize.Estimate(chat); // the relay's: the same text and session
        await peer.ReserveRelayAsync(bytes, cancellationToken).ConfigureAwait(false);
        var stored = new StoredMessage(chat.SessionId, from.ClientId, peer.ClientId, chat.Message, time.GetUtcNow().ToUnixTimeMilliseconds());
        try
        {
            await history.AppendAsync(stored, new RelayOnCommit(from, peer, metrics, bytes), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            peer.ReleaseReservation(bytes);
            throw;
        }
    }

    /// <summary>Streams every stored message between the requester and <paramref name="peerId"/>, then HISTORY_END.</summary>
    public async Task SendHistoryAsync(ClientConnection to, string peerId, CancellationToken cancellationToken)
    {
        if (!ClientIds.IsValid(peerId))
        {
            await to.ReplyAsync(new Error(ErrorCodes.InvalidClientId, ClientIds.Rule), cancellationToken).ConfigureAwait(false);
            return;
        }

        var count = 0;
        long after = 0;
        while (true)
        {
            IReadOnlyList<StoredMessage> page;
            try
            {
                page = await messages.ReadConversationAsync(to.ClientId, peerId, after, options.HistoryPageSize, cancellationToken).ConfigureAwait(false);
            }
            catch (System.Data.Common.DbException e)
            {
                logger.LogError(e, "Reading history for {ClientId} failed", to.ClientId);
                await to.ReplyAsync(new Error(ErrorCodes.StorageFailed, "The history could not be read; try again later."), cancellationToken).ConfigureAwait(false);
                return;
            }

            foreach (var m in page)
            {
                var with = ClientIds.Comparer.Equals(m.Sender, to.ClientId) ? m.Recipient : m.Sender;
                await to.ReplyAsync(new HistoryResp(m.Sender, m.Body, m.SessionId, m.SentAt, with), cancellationToken).ConfigureAwait(false);
                after = m.Id;
                count++;
            }

            if (page.Count < options.HistoryPageSize)
            {
                break;
            }
        }

        await to.ReplyAsync(new HistoryEnd(peerId, count), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends <paramref name="from"/>'s session, if any; returns the notice its peer is owed.</summary>
    private (ClientConnection Peer, EndNotif Notice)? EndSessionLocked(ClientConnection from, string reason)
    {
        if (from.Session is not { } session)
        {
            return null;
        }

        var peer = session.PeerOf(from);
        _sessions.Remove(session.Id);
        from.Session = null;
        peer.Session = null;
        from.LastEndedSessionId = session.Id;
        peer.LastEndedSessionId = session.Id;
        return (peer, new EndNotif(session.Id, reason));
    }

    /// <summary>
    /// Sends END_NOTIF behind every CHAT already on its way, so the last messages arrive before it. Not cancellable:
    /// the peer is owed the notice even if the connection that ended the session is going away.
    /// </summary>
    private ValueTask NotifyEndAsync((ClientConnection Peer, EndNotif Notice)? ended) =>
        ended is var (peer, notice)
            ? history.AfterPendingAsync(() => peer.TryEnqueue(notice), CancellationToken.None)
            : ValueTask.CompletedTask;

    private string NewSessionId()
    {
        // Eight hex digits are short enough to read in history output; uniqueness among live sessions is checked.
        string id;
        do
        {
            id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        }
        while (_sessions.ContainsKey(id));
        return id;
    }

    /// <summary>Runs on the history writer's task right after the commit, in commit order, so relay order = send order.</summary>
    private sealed class RelayOnCommit(ClientConnection from, ClientConnection peer, Hosting.ServerMetrics metrics, int bytes) : ICommitObserver
    {
        public void OnCommitted(StoredMessage stored)
        {
            metrics.Stored(Hosting.MessageKind.Chat);
            if (peer.TryEnqueueReserved(new Chat(stored.SessionId, stored.Body, stored.Sender, stored.SentAt), bytes))
            {
                metrics.Relayed(Hosting.MessageKind.Chat);
            }
        }

        public void OnFailed(StoredMessage message, Exception error)
        {
            peer.ReleaseReservation(bytes);
            from.TryEnqueue(new Error(ErrorCodes.StorageFailed, "Your message could not be stored, so it was not delivered."));
        }
    }
}
