using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// Who is in which chat session, shared by every soak client in this process. Sessions are exclusive (seed 001), so
/// two requests that cross would earn an honest <c>ERROR ALREADY_IN_SESSION</c>, and a CHAT that crosses the peer's
/// END_REQUEST an honest <c>ERROR NOT_IN_SESSION</c> (§5.14). The board rules both out, so that any ERROR is a fault:
/// a requester reserves itself and its peer before CHAT_REQUEST, and a party that ends a session first stops both
/// sides' CHATs, then waits until it has every CHAT its peer sent before it sends END_REQUEST or LOG_OFF. Crossing
/// END_REQUESTs, which the server must ignore (§5.12), are still made on purpose (<see cref="EndMode.Cross"/>), and so
/// are requests for a peer that is in another session, which must be UNREACHABLE: that session is pinned until the
/// answer comes. A client is "away" from the moment it decides to log off until its next CONNECTED, and nobody asks
/// for it meanwhile: a CHAT_REQUEST racing its LOG_OFF could start a session the LOG_OFF then ends.
/// </summary>
internal sealed partial class SessionBoard
{
    private readonly Lock _gate = new();
    private readonly SoakCounters _counters;
    private readonly string[] _ids;
    private readonly Dictionary<string, int> _indexes;
    private readonly int[] _reservedWith;
    private readonly bool[] _requester;
    private readonly SoakSession?[] _current;
    private readonly SoakSession?[] _last;
    private readonly SoakSession?[] _pinned;
    private readonly bool[] _away;
    private readonly Dictionary<string, SoakSession> _starting = new(StringComparer.Ordinal);
    private readonly List<SoakSession> _all = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SessionBoard(string[] ids, SoakCounters counters)
    {
        _ids = ids;
        _counters = counters;
        _indexes = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, ClientIds.Comparer);
        _reservedWith = [.. Enumerable.Repeat(-1, ids.Length)];
        _requester = new bool[ids.Length];
        _current = new SoakSession?[ids.Length];
        _last = new SoakSession?[ids.Length];
        _pinned = new SoakSession?[ids.Length];
        _away = [.. Enumerable.Repeat(true, ids.Length)];
    }

    /// <summary>Every session that started, for the accounting at the end.</summary>
    public SoakSession[] All()
    {
        lock (_gate)
        {
            return [.. _all];
        }
    }

    /// <summary>Sessions in progress now (each counted once).</summary>
    public int Live()
    {
        lock (_gate)
        {
            return _current.Where(s => s is not null).Distinct().Count();
        }
    }

    public int IndexOf(string clientId) => _indexes.GetValueOrDefault(clientId, -1);

    /// <summary>Logged on, neither reserved nor in a session: free to ask for a chat, to be asked, or to log off.</summary>
    public bool IsFree(int client)
    {
        lock (_gate)
        {
            return IsFreeLocked(client);
        }
    }

    /// <summary>Logged on again (CONNECTED has arrived): others may ask for <paramref name="client"/>.</summary>
    public void Returned(int client)
    {
        lock (_gate)
        {
            _away[client] = false;
        }
    }

    /// <summary>Marks a free <paramref name="client"/> away before its LOG_OFF; false if it is not free.</summary>
    public bool TryLeave(int client)
    {
        lock (_gate)
        {
            if (!IsFreeLocked(client))
            {
                return false;
            }

            _away[client] = true;
            return true;
        }
    }

    public bool IsReserved(int client)
    {
        lock (_gate)
        {
            return _reservedWith[client] >= 0;
        }
    }

    /// <summary>The session <paramref name="client"/> is in, once its CHAT_STARTED has arrived.</summary>
    public SoakSession? Current(int client)
    {
        lock (_gate)
        {
            return _current[client];
        }
    }

    /// <summary>
    /// Reserves both parties for a CHAT_REQUEST if both are free, to be answered CHAT_STARTED (or UNREACHABLE, if the
    /// server has not yet marked a peer that just logged on online); or, if the peer is in a session that is not
    /// ending, pins that session, to be answered UNREACHABLE. The answer releases them.
    /// </summary>
    public bool TryReserve(int requester, int target)
    {
        lock (_gate)
        {
            if (requester == target || !IsFreeLocked(requester) || _reservedWith[target] >= 0 || _away[target])
            {
                return false;
            }

            if (_current[target] is { } busy)
            {
                if (busy.EndingBy >= 0)
                {
                    return false;
                }

                busy.Pins++;
                _pinned[requester] = busy;
            }
            else
            {
                _reservedWith[target] = requester;
                _requester[target] = false;
            }

            _reservedWith[requester] = target;
            _requester[requester] = true;
            return true;
        }
    }

    public void OnUnreachable(int client, string peerId)
    {
        lock (_gate)
        {
            var peer = IndexOf(peerId);
            if (!_requester[client] || peer < 0 || _reservedWith[client] != peer)
            {
                _counters.CheckFailed(_ids[client], "UNREACHABLE for no request", peerId);
                return;
            }

            _reservedWith[client] = -1;
            if (_pinned[client] is { } busy)
            {
                busy.Pins--;
                _pinned[client] = null;
            }
            else if (_reservedWith[peer] == client)
            {
                _reservedWith[peer] = -1;
            }

            PulseLocked();
        }
    }

    public void OnStarted(int client, ChatStarted started)
    {
        lock (_gate)
        {
            var peer = IndexOf(started.ClientId);
            if (peer < 0 || _reservedWith[client] != peer || _pinned[client] is not null)
            {
                _counters.CheckFailed(_ids[client], _pinned[client] is null ? "CHAT_STARTED nobody asked for" : "CHAT_STARTED with a peer in another session",
                    started.ClientId);
                return;
            }

            var (requester, target) = _requester[client] ? (client, peer) : (peer, client);
            if (!_starting.Remove(started.SessionId, out var session))
            {
                session = new SoakSession(_all.Count + 1, started.SessionId, requester, target);
                _starting.Add(started.SessionId, session);
                _all.Add(session);
            }
            else if (session.Parties[0] != requester || session.Parties[1] != target)
            {
                _counters.CheckFailed(_ids[client], "CHAT_STARTED names another pair", started.SessionId);
            }

            _reservedWith[client] = -1;
            _current[client] = session;
            _last[client] = session;
            PulseLocked();
        }
    }

    private bool IsFreeLocked(int client) => _reservedWith[client] < 0 && _current[client] is null && !_away[client];

    private void ReleaseLocked(int client, SoakSession session)
    {
        if (_current[client] == session)
        {
            _current[client] = null;
            PulseLocked();
        }
    }

    private void PulseLocked()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }
}
