namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>How a session was ended: END_REQUEST by one party, by both at once (they cross, §5.12), or a LOG_OFF.</summary>
internal enum EndMode
{
    None,
    End,
    Cross,
    LogOff,
}

/// <summary>
/// One exclusive chat session (seed 001) as the soak saw it: who is in it, how many CHATs each party sent, and which
/// of them the other received. Changed only under <see cref="SessionBoard"/>'s lock.
/// </summary>
internal sealed class SoakSession(long serial, string id, int requester, int target)
{
    private readonly List<int>[] _received = [[], []];

    /// <summary>The soak's own number for the session: server session IDs may repeat over time (§5.10), this does not.</summary>
    public long Serial { get; } = serial;

    public string Id { get; } = id;

    /// <summary>The requester (side 0) and the peer it asked for (side 1), as client indexes.</summary>
    public int[] Parties { get; } = [requester, target];

    /// <summary>CHATs sent so far by each side. Once <see cref="EndingBy"/> is set, neither grows.</summary>
    public int[] Sent { get; } = [0, 0];

    /// <summary>Distinct CHATs each side has received from the other.</summary>
    public int[] Distinct { get; } = [0, 0];

    /// <summary>The highest CHAT number each side has received: one sender's CHATs arrive in order (§5.1).</summary>
    public int[] Last { get; } = [0, 0];

    /// <summary>The client that decided to end the session, or -1 while it goes on.</summary>
    public int EndingBy { get; set; } = -1;

    public EndMode Mode { get; set; }

    /// <summary>CHAT_REQUESTs in flight that count on this session going on, to be answered UNREACHABLE (§5.9 step 4).</summary>
    public int Pins { get; set; }

    /// <summary>END_NOTIFs received for this session, by either side.</summary>
    public int EndNotices { get; set; }

    /// <summary>The server ended it without being asked (a link was lost): its accounting still counts, its end is not checked.</summary>
    public bool Broken { get; set; }

    public int Side(int client) => client == Parties[0] ? 0 : 1;

    public int Peer(int client) => Parties[1 - Side(client)];

    /// <summary>Records CHAT <paramref name="n"/> received by <paramref name="side"/>; false if it repeats or comes out of order.</summary>
    public bool Receive(int side, int n)
    {
        var counts = _received[side];
        while (counts.Count < n)
        {
            counts.Add(0);
        }

        if (++counts[n - 1] == 1)
        {
            Distinct[side]++;
        }

        var inOrder = n > Last[side];
        Last[side] = Math.Max(Last[side], n);
        return inOrder;
    }

    /// <summary>How many times <paramref name="side"/> received CHAT <paramref name="n"/> of the other side.</summary>
    public int ReceivedCount(int side, int n) => n <= _received[side].Count ? _received[side][n - 1] : 0;

    /// <summary>CHAT numbers received by <paramref name="side"/> that the other side never sent.</summary>
    public int ReceivedBeyond(int side, int sent) => _received[side].Skip(sent).Sum();
}
