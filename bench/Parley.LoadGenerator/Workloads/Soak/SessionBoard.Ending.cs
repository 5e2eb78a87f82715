using Parley.Protocol;
using Parley.Protocol.Messages;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>The board's second half: a session's CHATs, its end, and the waits that keep CHATs and END from crossing.</summary>
internal sealed partial class SessionBoard
{
    /// <summary>Counts one more CHAT from <paramref name="client"/>: its number, or 0 once the session is ending.</summary>
    public int NextChat(int client, SoakSession session)
    {
        lock (_gate)
        {
            return _current[client] == session && session.EndingBy < 0 ? ++session.Sent[session.Side(client)] : 0;
        }
    }

    /// <summary>Makes <paramref name="client"/> the party that ends the session; false if it is not in it or someone already is.</summary>
    public bool BeginEnd(int client, SoakSession session, EndMode mode)
    {
        lock (_gate)
        {
            if (_current[client] != session || session.EndingBy >= 0 || session.Pins > 0)
            {
                return false;
            }

            session.EndingBy = client;
            session.Mode = mode;
            _away[client] |= mode == EndMode.LogOff;
            return true;
        }
    }

    /// <summary>The session whose other party is ending it together with <paramref name="client"/> (crossing END_REQUESTs), if any.</summary>
    public SoakSession? PendingCross(int client)
    {
        lock (_gate)
        {
            return _current[client] is { Mode: EndMode.Cross } session && session.EndingBy != client ? session : null;
        }
    }

    /// <summary><paramref name="client"/> sent its END_REQUEST or LOG_OFF: the session is over for it (§5.12).</summary>
    public void Released(int client, SoakSession session)
    {
        lock (_gate)
        {
            ReleaseLocked(client, session);
        }
    }

    public void OnEndNotif(int client, EndNotif notice)
    {
        lock (_gate)
        {
            if (NamedLocked(client, notice.SessionId, "END_NOTIF") is not { } session)
            {
                return;
            }

            session.EndNotices++;
            var expected = session.Mode == EndMode.LogOff ? EndReasons.PeerLeft : EndReasons.Ended;
            if (session.EndingBy < 0)
            {
                session.Broken = true;
                _counters.CheckFailed(_ids[client], "session ended by the server", notice.Reason);
            }
            else if (session.EndingBy == client && session.Mode != EndMode.Cross)
            {
                _counters.CheckFailed(_ids[client], "END_NOTIF to the party that ended", notice.Reason);
            }
            else if (notice.Reason != expected)
            {
                _counters.CheckFailed(_ids[client], "END_NOTIF with the wrong reason", $"{notice.Reason}, not {expected}");
            }

            // A party ending with its peer at once releases the session when it sends its own END_REQUEST.
            if (session.Mode != EndMode.Cross || session.EndingBy < 0)
            {
                ReleaseLocked(client, session);
            }
        }
    }

    /// <summary>Records a CHAT received by <paramref name="client"/> and checks it is its peer's, whole, and in order.</summary>
    public void OnChat(int client, Chat chat)
    {
        lock (_gate)
        {
            if (NamedLocked(client, chat.SessionId, "CHAT") is not { } session)
            {
                return;
            }

            var side = session.Side(client);
            var peer = session.Peer(client);
            if (!SoakBodies.TryParse(chat.Message, SoakBodies.ChatKind, out var serial, out var from, out var n)
                || serial != session.Serial || from != peer || !ClientIds.Comparer.Equals(chat.From, _ids[peer]) || n < 1 || n > session.Sent[1 - side])
            {
                _counters.CheckFailed(_ids[client], "CHAT altered or from the wrong sender", $"session {chat.SessionId} from {chat.From}");
                return;
            }

            if (!session.Receive(side, (int)n))
            {
                _counters.CheckFailed(_ids[client], "CHAT repeated or out of order", $"session {chat.SessionId} #{n} after #{session.Last[side]}");
            }

            PulseLocked();
        }
    }

    /// <summary>The link of <paramref name="client"/> ended without its LOG_OFF: the server ends its session and its reservation is void.</summary>
    public void OnLinkLost(int client)
    {
        lock (_gate)
        {
            if (_current[client] is { } session)
            {
                session.Broken = true;
                ReleaseLocked(client, session);
            }

            var peer = _reservedWith[client];
            if (_pinned[client] is { } busy)
            {
                busy.Pins--;
                _pinned[client] = null;
            }
            else if (peer >= 0 && _requester[client] && _reservedWith[peer] == client)
            {
                _reservedWith[peer] = -1;
            }

            _reservedWith[client] = -1;
            _away[client] = true;
            PulseLocked();
        }
    }

    /// <summary>Waits until <paramref name="client"/> has every CHAT its peer sent in <paramref name="session"/>; false at the timeout.</summary>
    public async Task<bool> WaitForPeerChatsAsync(int client, SoakSession session, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var side = session.Side(client);
                if (session.Distinct[side] >= session.Sent[1 - side] || session.Broken)
                {
                    return true;
                }

                changed = _changed.Task;
            }

            if (!await WaitChangeAsync(changed, deadline, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="client"/> has nothing to wait for: its reservation answered, and its session over
    /// or one it must end itself (not yet ending, or ending crosswise); false at the timeout.
    /// </summary>
    public async Task<bool> WaitTurnAsync(int client, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_reservedWith[client] < 0
                    && (_current[client] is not { } session || session.Mode == EndMode.Cross || session.EndingBy < 0 && session.Pins == 0))
                {
                    return true;
                }

                changed = _changed.Task;
            }

            if (!await WaitChangeAsync(changed, deadline, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
        }
    }

    /// <summary>
    /// The session <paramref name="client"/> is in, or has just left, if it has this ID (§5.14: a CHAT may trail its
    /// END); otherwise the <paramref name="what"/> that named it is a failed check.
    /// </summary>
    private SoakSession? NamedLocked(int client, string sessionId, string what)
    {
        var session = _current[client]?.Id == sessionId ? _current[client] : _last[client]?.Id == sessionId ? _last[client] : null;
        if (session is null)
        {
            _counters.CheckFailed(_ids[client], what + " for a session it was not in", sessionId);
        }

        return session;
    }

    private static async Task<bool> WaitChangeAsync(Task changed, long deadline, CancellationToken cancellationToken)
    {
        var left = deadline - Environment.TickCount64;
        if (left <= 0)
        {
            return false;
        }

        try
        {
            await changed.WaitAsync(TimeSpan.FromMilliseconds(left), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
