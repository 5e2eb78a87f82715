using System.Collections.Concurrent;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// Room messages (§11.7): a SAY reaches every member of its room but the sender, and is never stored, so only members
/// present throughout can be held to it. A member is held to a SAY when its JOINED arrived before the SAY was sent
/// (the server had added it) and it left (sent PART, or the request it makes just before LOG_OFF) only after the
/// sender had an answer to a later request (the server handles one connection's requests in order, §5.1, and relays
/// a SAY while handling it). Every such copy must arrive once; any copy arriving twice is a duplicate.
/// </summary>
internal sealed class RoomLedger(SoakCounters counters, string[] ids)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(int From, long N), SayRecord> _says = [];
    private readonly Dictionary<(int Client, string Room), List<Membership>> _members = [];
    private readonly ConcurrentDictionary<(int Client, int From, long N), int> _copies = new();

    /// <summary>A SAY about to be sent; the caller stamps <see cref="SayRecord.ConfirmedAt"/> once a later request is answered.</summary>
    public SayRecord Saying(int from, string room, long n)
    {
        var record = new SayRecord(from, room, n, SoakClock.Now);
        lock (_gate)
        {
            _says.Add((from, n), record);
        }

        return record;
    }

    public void Joined(int client, string room, long at)
    {
        lock (_gate)
        {
            if (!_members.TryGetValue((client, room), out var list))
            {
                _members[(client, room)] = list = [];
            }

            list.Add(new Membership(at));
        }
    }

    /// <summary>Ends <paramref name="client"/>'s open membership of <paramref name="room"/> (every room when null) at <paramref name="at"/>.</summary>
    public void Left(int client, string? room, long at)
    {
        lock (_gate)
        {
            foreach (var ((member, name), list) in _members)
            {
                if (member == client && (room is null || name == room) && list[^1].LeftAt == long.MaxValue)
                {
                    list[^1].LeftAt = at;
                }
            }
        }
    }

    public void Received(int client, Parley.Protocol.Messages.Say say)
    {
        if (!SoakBodies.TryParse(say.Message, SoakBodies.SayKind, out _, out var from, out var n) || from < 0 || from >= ids.Length || from == client
            || !Parley.Protocol.ClientIds.Comparer.Equals(say.From, ids[from]))
        {
            counters.CheckFailed(ids[client], "SAY altered or from the wrong sender", $"{say.Room} from {say.From}");
            return;
        }

        if (_copies.AddOrUpdate((client, from, n), 1, (_, c) => c + 1) == 1)
        {
            lock (_gate)
            {
                if (!_says.TryGetValue((from, n), out var sent) || sent.Room != say.Room)
                {
                    counters.CheckFailed(ids[client], "SAY relayed to the wrong room", say.Room);
                }
            }
        }
    }

    /// <summary>SAYs sent so far (progress line).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _says.Count;
            }
        }
    }

    public RoomTotals Totals()
    {
        long expected = 0, lost = 0, unconfirmed = 0;
        lock (_gate)
        {
            foreach (var say in _says.Values)
            {
                if (say.ConfirmedAt == long.MaxValue)
                {
                    unconfirmed++;
                    continue;
                }

                for (var client = 0; client < ids.Length; client++)
                {
                    if (client != say.From && _members.TryGetValue((client, say.Room), out var list)
                        && list.Exists(m => m.JoinedAt < say.SentAt && m.LeftAt > say.ConfirmedAt))
                    {
                        expected++;
                        lost += _copies.ContainsKey((client, say.From, say.N)) ? 0 : 1;
                    }
                }
            }

            return new RoomTotals(_says.Count, unconfirmed, expected, lost, _copies.Values.Sum(c => (long)c - 1));
        }
    }

    private sealed class Membership(long joinedAt)
    {
        public long JoinedAt { get; } = joinedAt;

        public long LeftAt { get; set; } = long.MaxValue;
    }
}

/// <summary>One SAY sent: when, and when the sender had proof the server had relayed it (<see cref="long.MaxValue"/> until then).</summary>
internal sealed class SayRecord(int from, string room, long n, long sentAt)
{
    public int From { get; } = from;

    public string Room { get; } = room;

    public long N { get; } = n;

    public long SentAt { get; } = sentAt;

    public long ConfirmedAt { get; set; } = long.MaxValue;
}

/// <summary>SAYs sent, those never confirmed (not judged), copies members were held to, of those lost, and copies that arrived twice.</summary>
internal sealed record RoomTotals(long Sent, long Unconfirmed, long Expected, long Lost, long Duplicated);

/// <summary>One monotonic clock for every client of the soak, so "before" and "after" compare across their tasks.</summary>
internal static class SoakClock
{
    public static long Now => System.Diagnostics.Stopwatch.GetTimestamp();
}
