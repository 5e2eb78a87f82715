using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>The reader: every message the server sends to this log-on is accounted for or checked here.</summary>
internal sealed partial class SoakLink
{
    private async Task ReadAsync()
    {
        try
        {
            await foreach (var message in Connection.Events.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    Handle(message);
                }
                catch (Exception e) when (e is InvalidOperationException or InvalidCastException or KeyNotFoundException)
                {
                    _world.Counters.ExceptionThrown(Id, "handling " + message.GetType().Name, e);
                }
            }
        }
        finally
        {
            _answers.Writer.TryComplete();
            Ended();
        }
    }

    private void Handle(ParleyMessage message)
    {
        switch (message)
        {
            case Chat chat:
                _world.Board.OnChat(_index, chat);
                break;
            case ChatStarted started:
                _world.Board.OnStarted(_index, started);
                break;
            case Unreachable unreachable:
                _world.Board.OnUnreachable(_index, unreachable.ClientId);
                break;
            case EndNotif end:
                _world.Board.OnEndNotif(_index, end);
                break;
            case Dm dm:
                OnDm(dm);
                break;
            case DmSent sent:
                _world.Dms.Confirmed(_index, sent);
                OnDmSent(sent.Id);
                break;
            case Say say:
                _world.Rooms.Received(_index, say);
                break;
            case RoomNotice:
                break; // who came and went: the room accounting uses JOINED and PART instead
            case HistoryResp response:
                OnHistoryResp(response);
                break;
            case Error error:
                _world.Counters.ErrorReceived(Id, error);
                break;
            case Joined or Parted or RoomList or ListResp or HistoryEnd or TalkEnd or PasswdOk:
                OnReply(message);
                break;
            default:
                // KEYS_CHANGED (nobody replaces a key), NOTICE (no operator), or an answer the library should have taken.
                _world.Counters.CheckFailed(Id, "unexpected message", message.GetType().Name);
                break;
        }
    }

    private void OnDm(Dm dm)
    {
        if (!ClientIds.Comparer.Equals(dm.To, Id))
        {
            // A replay shows both directions (§11.5): this is one of our own.
            if (!ClientIds.Comparer.Equals(dm.From, Id))
            {
                _world.Counters.CheckFailed(Id, "DM for someone else", $"seq {dm.Seq} to {dm.To}");
            }

            return;
        }

        TalkState? talk;
        lock (_gate)
        {
            talk = QueueFor(typeof(TalkEnd)).TryPeek(out var head) ? (TalkState)head.State! : null;
        }

        var replay = talk is not null && ClientIds.Comparer.Equals(talk.Peer, dm.From);
        _world.Dms.Received(_index, dm, live: !replay);
        if (dm.Seq is not { } seq)
        {
            return;
        }

        if (replay)
        {
            talk!.NewestFromPeer = Math.Max(talk.NewestFromPeer, seq);
        }
        else
        {
            // §11.2: acknowledged once shown, which for the soak is once accounted for.
            _answers.Writer.TryWrite((SoakKind.DmAck, new DmAck(seq)));
        }
    }

    private void OnDmSent(string id)
    {
        lock (_gate)
        {
            if (long.TryParse(id, out var label) && _dmsInFlight.Remove(label) && _dmsInFlight.Count == 0)
            {
                _dmsSent?.TrySetResult();
                _dmsSent = null;
            }
        }
    }

    private void OnHistoryResp(HistoryResp response)
    {
        HistoryCollector? collector;
        lock (_gate)
        {
            collector = QueueFor(typeof(HistoryEnd)).TryPeek(out var head) ? (HistoryCollector)head.State! : null;
        }

        if (collector is null)
        {
            _world.Counters.CheckFailed(Id, "HISTORY_RESP for no request", response.SessionId);
            return;
        }

        if (!SoakBodies.TryParse(response.Message, SoakBodies.ChatKind, out var serial, out var from, out var n)
            || from < 0 || from >= _world.Ids.Length || !ClientIds.Comparer.Equals(response.ClientId, _world.Ids[from]))
        {
            _world.Counters.CheckFailed(Id, "HISTORY_RESP altered", $"session {response.SessionId} from {response.ClientId}");
            return;
        }

        collector.Add(serial, from, n);
    }

    /// <summary>The answer to the oldest request of its kind; it also confirms every SAY sent before that request.</summary>
    private void OnReply(ParleyMessage reply)
    {
        PendingReply? pending;
        lock (_gate)
        {
            if (!QueueFor(reply.GetType()).TryDequeue(out pending))
            {
                _world.Counters.CheckFailed(Id, "answer to no request", reply.GetType().Name);
                return;
            }

            var now = SoakClock.Now;
            while (_unconfirmed.TryPeek(out var say) && say.Order < pending.Order)
            {
                _unconfirmed.Dequeue().Say.ConfirmedAt = now;
            }
        }

        object? result = reply;
        switch (reply)
        {
            case Joined joined:
                OnJoined(joined, (string)pending.State!);
                break;
            case Parted parted when parted.Room != (string)pending.State!:
                _world.Counters.CheckFailed(Id, "PARTED names another room", parted.Room);
                break;
            case RoomList list:
                CheckRoomList(list, (string[])pending.State!);
                break;
            case ListResp users:
                CheckDirectory(users, (bool)pending.State!);
                break;
            case HistoryEnd end:
                result = CheckHistoryEnd(end, (HistoryCollector)pending.State!);
                break;
            case TalkEnd talkEnd:
                OnTalkEnd(talkEnd, (TalkState)pending.State!);
                break;
        }

        pending.Done?.TrySetResult(result);
    }

    private void OnJoined(Joined joined, string room)
    {
        if (joined.Room != room || joined.Members < 1)
        {
            _world.Counters.CheckFailed(Id, "JOINED names another room", joined.Room);
        }

        bool added;
        lock (_gate)
        {
            _joining.Remove(room);
            added = _rooms.Add(room);
        }

        if (added)
        {
            _world.Rooms.Joined(_index, room, SoakClock.Now);
        }
    }

    private void CheckRoomList(RoomList list, string[] joined)
    {
        foreach (var room in joined)
        {
            if (!list.Rooms.Any(r => r.Name == room && r.Joined && r.Members >= 1))
            {
                _world.Counters.CheckFailed(Id, "ROOM_LIST leaves out a joined room", room);
            }
        }
    }

    private void CheckDirectory(ListResp users, bool onlineOnly)
    {
        if (!users.Users.Any(u => ClientIds.Comparer.Equals(u.ClientId, Id) && u.Online))
        {
            _world.Counters.CheckFailed(Id, "LIST_RESP does not show its requester online", onlineOnly ? "online only" : "all users");
        }

        if (!onlineOnly && !users.Truncated && users.Users.Count != _world.Ids.Length)
        {
            _world.Counters.CheckFailed(Id, "LIST_RESP has the wrong number of users", $"{users.Users.Count}, not {_world.Ids.Length}");
        }
    }

    private HistoryCollector CheckHistoryEnd(HistoryEnd end, HistoryCollector collector)
    {
        if (end.Count != collector.Responses)
        {
            _world.Counters.CheckFailed(Id, "HISTORY_END count differs from the messages sent", $"{end.Count}, not {collector.Responses}");
        }

        if (collector.Repeated > 0)
        {
            _world.Counters.CheckFailed(Id, "history repeats a CHAT", $"{collector.Repeated} repeats with {end.ClientId}");
        }

        return collector;
    }

    private void OnTalkEnd(TalkEnd end, TalkState talk)
    {
        if (!ClientIds.Comparer.Equals(end.ClientId, talk.Peer))
        {
            _world.Counters.CheckFailed(Id, "TALK_END names another peer", end.ClientId);
        }

        if (talk.NewestFromPeer > 0)
        {
            // §11.5: the replay was shown, so every DM from the peer up to its newest is read.
            _answers.Writer.TryWrite((SoakKind.Read, new Read(talk.Peer, talk.NewestFromPeer)));
        }
    }

    /// <summary>The link has ended: if the soak did not end it, that is a fault, and its rooms and session end with it.</summary>
    private void Ended()
    {
        if (!_closing)
        {
            _world.Counters.UnexpectedClose(Id, Connection.CloseReason);
            _world.Rooms.Left(_index, null, SoakClock.Now);
            _world.Board.OnLinkLost(_index);
        }

        lock (_gate)
        {
            foreach (var pending in _pending.Values.SelectMany(q => q))
            {
                pending.Done?.TrySetException(new IOException($"The link ended ({Connection.CloseReason}) before the answer."));
            }

            _pending.Clear();
            _dmsSent?.TrySetResult();
        }
    }

    /// <summary>A TALK in flight: whose DMs it replays, and the newest seq from them so far (for READ).</summary>
    public sealed class TalkState(string peer)
    {
        public string Peer { get; } = peer;

        public long NewestFromPeer { get; set; }
    }

    /// <summary>A HISTORY_REQ's answer so far: how often each soak CHAT appeared in it.</summary>
    public sealed class HistoryCollector
    {
        private readonly Dictionary<(long Serial, int From, long N), int> _copies = [];

        public int Responses { get; private set; }

        public int Repeated { get; private set; }

        public void Add(long serial, int from, long n)
        {
            Responses++;
            if ((_copies[(serial, from, n)] = _copies.GetValueOrDefault((serial, from, n)) + 1) > 1)
            {
                Repeated++;
            }
        }

        public int Count(long serial, int from, long n) => _copies.GetValueOrDefault((serial, from, n));

        public int Distinct => _copies.Count;
    }
}
