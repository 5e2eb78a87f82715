using System.Collections.Concurrent;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// Every DM the soak sent and every copy of one a recipient saw (§11.2–§11.5). A DM that got DM_SENT is stored, so
/// by the end its recipient must have seen it, live or in a TALK replay once it logged on again: otherwise it is lost.
/// It is duplicated if it was pushed live more than once, or if its body was stored twice (seen under two seqs).
/// A replay may repeat what was shown live, by design (§11.3, "Nothing is pushed again at log-on"), so replays never
/// count as duplicates; neither does a DM from the peer of a TALK whose replay is in flight, which may be either.
/// </summary>
internal sealed class DmLedger(SoakCounters counters, string[] ids)
{
    private readonly ConcurrentDictionary<(int From, long Id), Sent> _sent = new();
    private readonly ConcurrentDictionary<(int From, long Id), Seen> _seen = new();

    /// <summary>Before the DM is sent: its recipient's copy may arrive before its DM_SENT.</summary>
    public void Sending(int from, int to, long id) => _sent[(from, id)] = new Sent(to);

    public void Confirmed(int from, Parley.Protocol.Messages.DmSent sent)
    {
        if (!long.TryParse(sent.Id, out var id) || !_sent.TryGetValue((from, id), out var record)
            || !Parley.Protocol.ClientIds.Comparer.Equals(sent.To, ids[record.To]))
        {
            counters.CheckFailed(ids[from], "DM_SENT for no DM", $"id {sent.Id} to {sent.To}");
            return;
        }

        lock (record)
        {
            if (record.Seq != 0)
            {
                counters.CheckFailed(ids[from], "DM_SENT twice", $"id {sent.Id}");
            }

            record.Seq = sent.Seq;
            record.Online = sent.Online;
        }
    }

    /// <summary>A copy of a DM reached <paramref name="recipient"/>: <paramref name="live"/> as it was stored, or in a replay.</summary>
    public void Received(int recipient, Parley.Protocol.Messages.Dm dm, bool live)
    {
        if (!SoakBodies.TryParse(dm.Message, SoakBodies.DmKind, out _, out var from, out var id) || from < 0 || from >= ids.Length
            || !Parley.Protocol.ClientIds.Comparer.Equals(dm.From, ids[from]) || dm.Seq is not { } seq
            || !_sent.TryGetValue((from, id), out var sent) || sent.To != recipient)
        {
            counters.CheckFailed(ids[recipient], "DM altered or misdelivered", $"seq {dm.Seq} from {dm.From}");
            return;
        }

        var seen = _seen.GetOrAdd((from, id), _ => new Seen(seq));
        lock (seen)
        {
            if (seen.Seq != seq)
            {
                seen.StoredTwice = true;
            }

            if (live)
            {
                seen.Live++;
            }
        }
    }

    /// <summary>DMs sent so far (progress line).</summary>
    public int Count => _sent.Count;

    /// <summary>Recipients that have at least one confirmed DM they have not seen yet (the final drain replays them).</summary>
    public HashSet<(int Recipient, int Sender)> Unseen() =>
        [.. _sent.Where(p => p.Value.Seq != 0 && !_seen.ContainsKey(p.Key)).Select(p => (p.Value.To, p.Key.From))];

    public DmTotals Totals()
    {
        long confirmed = 0, offline = 0, unconfirmed = 0, lost = 0, duplicated = 0;
        foreach (var (key, sent) in _sent)
        {
            if (sent.Seq == 0)
            {
                unconfirmed++;
                continue;
            }

            confirmed++;
            offline += sent.Online ? 0 : 1;
            if (!_seen.TryGetValue(key, out var seen))
            {
                lost++;
            }
            else if (seen.Live > 1 || seen.StoredTwice || seen.Seq != sent.Seq)
            {
                duplicated++;
            }
        }

        return new DmTotals(_sent.Count, confirmed, offline, unconfirmed, lost, duplicated);
    }

    private sealed class Sent(int to)
    {
        public int To { get; } = to;

        public long Seq { get; set; }

        public bool Online { get; set; }
    }

    private sealed class Seen(long seq)
    {
        public long Seq { get; } = seq;

        public int Live { get; set; }

        public bool StoredTwice { get; set; }
    }
}

/// <summary>
/// DMs sent, those confirmed by DM_SENT (and of them, those stored for a recipient who was offline), those never
/// confirmed (the link ended first: not judged), and of the confirmed, those lost and those duplicated.
/// </summary>
internal sealed record DmTotals(long Sent, long Confirmed, long Offline, long Unconfirmed, long Lost, long Duplicated);
