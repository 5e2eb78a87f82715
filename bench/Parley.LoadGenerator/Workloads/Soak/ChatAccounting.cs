namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// Session CHATs at the end of a run (seed 001, §5.14): each one sent reached the peer exactly once, each session's
/// end was announced once to the party that did not end it, and the history of every pair holds each CHAT the two
/// sent each other exactly once, and nothing else (§5.15).
/// </summary>
internal static class ChatAccounting
{
    public static ChatTotals Totals(SoakWorld world)
    {
        long sent = 0, lost = 0, duplicated = 0, crossed = 0;
        var sessions = world.Board.All();
        foreach (var session in sessions)
        {
            crossed += session.Mode == EndMode.Cross ? 1 : 0;
            for (var side = 0; side < 2; side++)
            {
                var receiver = 1 - side;
                sent += session.Sent[side];
                for (var n = 1; n <= session.Sent[side]; n++)
                {
                    var copies = session.ReceivedCount(receiver, n);
                    lost += copies == 0 ? 1 : 0;
                    duplicated += Math.Max(0, copies - 1);
                }

                duplicated += session.ReceivedBeyond(receiver, session.Sent[side]);
            }

            // Ending alone, the other party hears of it once; ending together, at most one END_REQUEST found the session (§5.12).
            if (!session.Broken && (session.Mode == EndMode.Cross ? session.EndNotices > 1 : session.EndNotices != 1))
            {
                world.Counters.CheckFailed(world.Ids[session.Parties[0]], "END_NOTIF count", $"session {session.Id} ({session.Mode}): {session.EndNotices}");
            }
        }

        return new ChatTotals(sessions.Length, crossed, sent, lost, duplicated);
    }

    /// <summary>HISTORY_REQ for every pair of users, from the lower index, compared with the CHATs the board counted.</summary>
    public static async Task<HistoryTotals> CheckHistoryAsync(SoakWorld world, CancellationToken abort)
    {
        var expected = new Dictionary<(int, int), List<(long Serial, int From, long N)>>();
        foreach (var session in world.Board.All())
        {
            var pair = (Math.Min(session.Parties[0], session.Parties[1]), Math.Max(session.Parties[0], session.Parties[1]));
            if (!expected.TryGetValue(pair, out var list))
            {
                expected[pair] = list = [];
            }

            for (var side = 0; side < 2; side++)
            {
                list.AddRange(Enumerable.Range(1, session.Sent[side]).Select(n => (session.Serial, session.Parties[side], (long)n)));
            }
        }

        var totals = await Task.WhenAll(world.Clients.Select(async client =>
        {
            long pairs = 0, chats = 0, missing = 0, duplicated = 0, unexpected = 0;
            for (var peer = client.Index + 1; peer < world.Ids.Length; peer++)
            {
                var history = await client.HistoryAsync(peer, abort).ConfigureAwait(false);
                var owed = expected.GetValueOrDefault((client.Index, peer)) ?? [];
                var found = 0;
                foreach (var (serial, from, n) in owed)
                {
                    var copies = history.Count(serial, from, n);
                    missing += copies == 0 ? 1 : 0;
                    duplicated += Math.Max(0, copies - 1);
                    found += copies > 0 ? 1 : 0;
                }

                pairs++;
                chats += owed.Count;
                unexpected += history.Distinct - found;
            }

            return new HistoryTotals(pairs, chats, missing, duplicated, unexpected);
        })).ConfigureAwait(false);
        return new HistoryTotals(totals.Sum(t => t.Pairs), totals.Sum(t => t.Chats), totals.Sum(t => t.Missing), totals.Sum(t => t.Duplicated),
            totals.Sum(t => t.Unexpected));
    }
}

/// <summary>Sessions (and of them, those ended with crossing END_REQUESTs), CHATs sent, lost and duplicated.</summary>
internal sealed record ChatTotals(long Sessions, long Crossed, long Sent, long Lost, long Duplicated);

/// <summary>Pairs whose history was read, the CHATs it had to hold, those missing, those there twice, and stored CHATs nobody sent.</summary>
internal sealed record HistoryTotals(long Pairs, long Chats, long Missing, long Duplicated, long Unexpected);
