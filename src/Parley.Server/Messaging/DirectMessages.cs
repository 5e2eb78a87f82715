using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Server.Connections;
using Parley.Server.Routing;
using Parley.Storage;

namespace Parley.Server.Messaging;

/// <summary>
/// Direct messages (issue #4; seed 003 "DM", seed 002's offline and online chat). Every DM is stored by the group
/// commit of <see cref="HistoryWriter"/> before anyone hears of it: the sender gets DM_SENT ("Message sent") and an
/// online recipient gets the DM only after the commit. It counts as delivered when the recipient's client answers
/// DM_ACK, and as read when a conversation view (TALK, READ) showed it. Undelivered DMs form the recipient's
/// offline queue, bounded by <see cref="ParleyServerOptions.MaxOfflineMessages"/>; its length per recipient is kept
/// in memory (loaded once at start) so the bound costs no database read per message.
/// </summary>
internal sealed class DirectMessages
{
    private readonly ParleyServerOptions _options;
    private readonly HistoryWriter _writer;
    private readonly MessageStore _store;
    private readonly UserStore _users;
    private readonly ChatRouter _router;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Hosting.ServerMetrics _metrics;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _undelivered;

    public DirectMessages(ParleyServerOptions options, HistoryWriter writer, MessageStore store, UserStore users, ChatRouter router,
        TimeProvider time, Hosting.ServerMetrics metrics, ILogger<DirectMessages> logger)
    {
        _metrics = metrics;
        _options = options;
        _writer = writer;
        _store = store;
        _users = users;
        _router = router;
        _time = time;
        _logger = logger;
        _undelivered = new Dictionary<string, int>(store.UndeliveredCounts(), ClientIds.Comparer);
    }

    /// <summary>Undelivered DMs waiting for <paramref name="recipient"/> (including those not yet committed).</summary>
    public int Undelivered(string recipient)
    {
        lock (_gate)
        {
            return _undelivered.GetValueOrDefault(recipient);
        }
    }

    /// <summary>Checks, stores, then (on commit) confirms to the sender and delivers to an online recipient.</summary>
    public async ValueTask SendAsync(ClientConnection from, Dm dm, CancellationToken cancellationToken)
    {
        var refusal = Check(from, dm);
        if (refusal is not null)
        {
            await from.ReplyAsync(refusal, cancellationToken).ConfigureAwait(false);
            return;
        }

        // The recipient as stored (its canonical letter case), which is also how an online connection is keyed.
        string? to;
        try
        {
            to = ResolvePeer(dm.To);
        }
        catch (System.Data.Common.DbException e)
        {
            _logger.LogError(e, "Looking up a DM recipient for {ClientId} failed", from.ClientId);
            await from.ReplyAsync(new Error(ErrorCodes.StorageFailed, "The server could not check the recipient; your message was not sent."), cancellationToken)
                .ConfigureAwait(false);
            return;
        }

        if (to is null)
        {
            await from.ReplyAsync(new Error(ErrorCodes.UnknownUser, $"There is no user {dm.To}; your message was not sent."), cancellationToken).ConfigureAwait(false);
            return;
        }

        lock (_gate)
        {
            var waiting = _undelivered.GetValueOrDefault(to);
            if (waiting >= _options.MaxOfflineMessages)
            {
                refusal = new Error(ErrorCodes.QueueFull,
                    $"{to} already has {waiting} messages they have not received yet, the most the server keeps; yours was not sent. Try again once they have read them.");
            }
            else
            {
                _undelivered[to] = waiting + 1;
            }
        }

        if (refusal is not null)
        {
            await from.ReplyAsync(refusal, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Reserve places for the confirmation and the delivery, as a CHAT relay does: a fast sender is paced by its
        // own reading and by an online recipient's, and group commit cannot overfill either queue.
        var recipient = _router.TryGetOnline(to);
        var stored = new StoredMessage("", from.ClientId, to, dm.Message, _time.GetUtcNow().ToUnixTimeMilliseconds()) { Kind = MessageKinds.Direct };
        ClientConnection? reservedFrom = null;
        ClientConnection? reservedRecipient = null;
        var deliveryBytes = OutboundSize.Estimate(dm); // at least the delivery's: the same text, an ID no longer
        try
        {
            await from.ReserveRelayAsync(DeliverOnCommit.SentBytes, cancellationToken).ConfigureAwait(false);
            reservedFrom = from;
            if (recipient is not null)
            {
                await recipient.ReserveRelayAsync(deliveryBytes, cancellationToken).ConfigureAwait(false);
                reservedRecipient = recipient;
            }

            await _writer.AppendAsync(stored, new DeliverOnCommit(this, from, reservedRecipient, deliveryBytes, dm.Id ?? ""), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            reservedFrom?.ReleaseReservation(DeliverOnCommit.SentBytes);
            reservedRecipient?.ReleaseReservation(deliveryBytes);
            Release(to, 1);
            throw;
        }
    }

    /// <summary>DM_ACK: the recipient's client holds the message; it leaves the offline queue once that is written.</summary>
    public ValueTask AcknowledgeAsync(ClientConnection client, DmAck ack, CancellationToken cancellationToken) =>
        _writer.MarkAsync(new DeliveredReceipt(client.ClientId, ack.Seq, Now(), n => Release(client.ClientId, n)), cancellationToken);

    /// <summary>READ: the conversation view showed every DM from the peer up to a seq.</summary>
    public async ValueTask ReadAsync(ClientConnection client, Read read, CancellationToken cancellationToken)
    {
        if (ClientIds.IsValid(read.ClientId))
        {
            // Senders are matched ignoring case, so the ID as given marks a removed account's DMs too.
            var peer = read.ClientId;
            await _writer.MarkAsync(new ReadReceipt(client.ClientId, peer, read.Seq, Now(), n => Release(client.ClientId, n)), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>
    /// TALK (seed 002 "!TALK user"): replays the last DMs with the peer, oldest first, then TALK_END with how many
    /// were unread. Nothing is marked here: the client sends READ once it has shown the replay, so a client that
    /// drops mid-replay finds the messages still unread at its next log-on.
    /// </summary>
    public async Task TalkAsync(ClientConnection client, Talk talk, CancellationToken cancellationToken)
    {
        if (!ClientIds.IsValid(talk.ClientId))
        {
            await client.ReplyAsync(new Error(ErrorCodes.InvalidClientId, ClientIds.Rule), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (ClientIds.Comparer.Equals(talk.ClientId, client.ClientId))
        {
            await client.ReplyAsync(new Error(ErrorCodes.NotAllowed, "Your conversations are with other people."), cancellationToken).ConfigureAwait(false);
            return;
        }

        // Every receipt this client sent before (a READ from a view just closed) is committed before counting.
        await CommittedAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<StoredMessage> tail;
        int unread;
        string? known;
        try
        {
            known = ResolvePeer(talk.ClientId);
            unread = await _store.UnreadCountAsync(client.ClientId, known ?? talk.ClientId, cancellationToken).ConfigureAwait(false);
            tail = await _store.ReadDirectTailAsync(client.ClientId, known ?? talk.ClientId, Math.Clamp(talk.Limit, 1, _options.MaxTalkMessages), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException e)
        {
            _logger.LogError(e, "Reading direct messages for {ClientId} failed", client.ClientId);
            await client.ReplyAsync(new Error(ErrorCodes.StorageFailed, "The conversation could not be read; try again later."), cancellationToken).ConfigureAwait(false);
            return;
        }

        // A removed account's messages stay readable: its ID is still the conversation's key.
        var peer = known ?? talk.ClientId;
        if (tail.Count == 0 && known is null)
        {
            await client.ReplyAsync(new Error(ErrorCodes.UnknownUser, $"There is no user {talk.ClientId}."), cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (var m in tail)
        {
            await client.ReplyAsync(new Dm(m.Recipient, m.Body, null, m.Sender, m.Id, m.SentAt), cancellationToken).ConfigureAwait(false);
        }

        await client.ReplyAsync(new TalkEnd(peer, tail.Count, unread), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The unread counts CONNECTED carries (seed 002); empty if the store cannot be read, which must not stop a log-on.</summary>
    public async Task<UnreadCount[]> UnreadAsync(string clientId, CancellationToken cancellationToken)
    {
        try
        {
            // The READs of a connection that just logged off are committed before they are counted.
            await CommittedAsync(cancellationToken).ConfigureAwait(false);
            var counts = await _store.UnreadAsync(clientId, _options.UnreadSendersPerFrame, cancellationToken).ConfigureAwait(false);
            return [.. counts.Select(c => new UnreadCount(c.Sender, c.Count))];
        }
        catch (System.Data.Common.DbException e)
        {
            _logger.LogError(e, "Reading unread counts for {ClientId} failed", clientId);
            return [];
        }
        catch (OperationCanceledException)
        {
            return []; // the connection closed while waiting; it is about to end anyway
        }
    }

    /// <summary>Completes once every message and receipt queued so far is committed.</summary>
    private async Task CommittedAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _writer.AfterPendingAsync(() => done.TrySetResult(), cancellationToken).ConfigureAwait(false);
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private Error? Check(ClientConnection from, Dm dm)
    {
        if (!ClientIds.IsValid(dm.To))
        {
            return new Error(ErrorCodes.InvalidClientId, ClientIds.Rule);
        }

        if (ClientIds.Comparer.Equals(dm.To, from.ClientId))
        {
            return new Error(ErrorCodes.NotAllowed, "You cannot send a direct message to yourself.");
        }

        return _options.CheckMessageSize(dm.Message) ?? (dm.Id is { Length: > 64 } ? new Error(ErrorCodes.BadMessage, "A DM id is at most 64 characters.") : null);
    }

    private string? ResolvePeer(string id) =>
        ClientIds.IsValid(id) ? _router.TryGetOnline(id)?.ClientId ?? _users.Find(id)?.ClientId : null;

    private void Release(string recipient, int count)
    {
        if (count <= 0)
        {
            return;
        }

        lock (_gate)
        {
            var left = _undelivered.GetValueOrDefault(recipient) - count;
            if (left > 0)
            {
                _undelivered[recipient] = left;
            }
            else
            {
                _undelivered.Remove(recipient);
            }
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Runs on the history writer's task right after the commit, in commit order.</summary>
    private sealed class DeliverOnCommit(DirectMessages owner, ClientConnection from, ClientConnection? reserved, int deliveryBytes, string id)
        : ICommitObserver
    {
        /// <summary>Reserved in the sender's queue for its DM_SENT, which carries no text.</summary>
        public const int SentBytes = OutboundSize.Overhead;

        public void OnCommitted(StoredMessage stored)
        {
            // Whoever is online as the recipient now gets it: a log-on since the send is a new connection.
            var current = owner._router.TryGetOnline(stored.Recipient);
            var delivery = new Dm(stored.Recipient, stored.Body, null, stored.Sender, stored.Id, stored.SentAt);
            bool delivered;
            if (reserved is not null && ReferenceEquals(current, reserved))
            {
                delivered = reserved.TryEnqueueReserved(delivery, deliveryBytes);
            }
            else
            {
                reserved?.ReleaseReservation(deliveryBytes);
                delivered = current?.TryEnqueue(delivery) ?? false;
            }

            // Counted before DM_SENT is queued, so a sender that has DM_SENT sees this DM in the metrics.
            owner._metrics.Stored(Hosting.MessageKind.Dm);
            owner._metrics.Relayed(Hosting.MessageKind.Dm, delivered ? 1 : 0);
            from.TryEnqueueReserved(new DmSent(id, stored.Recipient, stored.Id, stored.SentAt, current is not null), SentBytes);
        }

        public void OnFailed(StoredMessage message, Exception error)
        {
            reserved?.ReleaseReservation(deliveryBytes);
            from.ReleaseReservation(SentBytes);
            owner.Release(message.Recipient, 1);
            from.TryEnqueue(new Error(ErrorCodes.StorageFailed, "Your message could not be stored, so it was not sent."));
        }
    }
}
