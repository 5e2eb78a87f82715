using Parley.Protocol.Messages;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>
/// The end of a run, after the actors stop: every session ends cleanly, everyone logs on, and each client reads back
/// what was owed to it while it was away, so that what is still missing is lost and not merely late.
/// </summary>
internal sealed partial class SoakClient
{
    /// <summary>Ends its session, if any, once requests in flight are answered, and waits for its DMs' DM_SENT.</summary>
    public async Task SettleAsync(CancellationToken abort)
    {
        while (_link is { IsOpen: true } link)
        {
            // Twice the reply timeout: the peer ending the session may itself wait that long for a CHAT that never comes.
            if (!await _world.Board.WaitTurnAsync(Index, 2 * SoakParameters.ReplyTimeout, abort).ConfigureAwait(false))
            {
                _world.Counters.CheckFailed(Id, "session or request did not settle", $"within {2 * SoakParameters.ReplyTimeout.TotalSeconds:0} s");
                return;
            }

            if (_world.Board.PendingCross(Index) is { } crossing)
            {
                await EndSessionAsync(link, crossing, abort).ConfigureAwait(false);
            }
            else if (_world.Board.Current(Index) is { } session)
            {
                if (_world.Board.BeginEnd(Index, session, EndMode.End))
                {
                    await EndSessionAsync(link, session, abort).ConfigureAwait(false);
                }
            }
            else
            {
                if (!await link.WaitForDmsSentAsync(abort).ConfigureAwait(false))
                {
                    _world.Counters.CheckFailed(Id, "DM_SENT missing at the end", $"after {SoakParameters.ReplyTimeout.TotalSeconds:0} s");
                }

                return;
            }
        }
    }

    /// <summary>Logs on if it is logged off (retrying a failed log-on until <paramref name="abort"/>).</summary>
    public async Task EnsureOnlineAsync(CancellationToken abort)
    {
        while (_link is not { IsOpen: true })
        {
            if (_link is not null)
            {
                await _link.Completion.ConfigureAwait(false);
                _link = null;
            }

            await LogOnAsync(abort).ConfigureAwait(false);
            if (_link is null)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), abort).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// TALK with every other user, replaying whole conversations (the soak's server allows it): every DM to this
    /// client that was stored must be in one of them, and the replay must not hold one DM under two seqs.
    /// </summary>
    public async Task ReplayAllAsync(CancellationToken abort)
    {
        var link = _link ?? throw new InvalidOperationException($"{Id} is not logged on.");
        for (var peer = 0; peer < _world.Ids.Length; peer++)
        {
            if (peer != Index)
            {
                await TalkAsync(link, _world.Ids[peer], int.MaxValue, wait: true, abort).ConfigureAwait(false);
            }
        }
    }

    /// <summary>HISTORY_REQ with <paramref name="peer"/>: every CHAT of their sessions, both ways (§5.15).</summary>
    public async Task<SoakLink.HistoryCollector> HistoryAsync(int peer, CancellationToken abort)
    {
        var link = _link ?? throw new InvalidOperationException($"{Id} is not logged on.");
        return (SoakLink.HistoryCollector)(await link.RequestAsync<HistoryEnd>(SoakKind.HistoryReq, new HistoryReq(_world.Ids[peer]),
            new SoakLink.HistoryCollector(), wait: true, abort).ConfigureAwait(false))!;
    }

    /// <summary>ROOMS, waiting for the answer: once every client has done it twice, every SAY relayed has arrived.</summary>
    public Task BarrierAsync(CancellationToken abort) =>
        (_link ?? throw new InvalidOperationException($"{Id} is not logged on.")).RoomsAsync(wait: true, abort);

    /// <summary>The last LOG_OFF of the run.</summary>
    public async Task LogOffAtEndAsync(CancellationToken abort)
    {
        if (_link is { IsOpen: true } link && _world.Board.TryLeave(Index))
        {
            await LeaveAsync(link, abort).ConfigureAwait(false);
        }
    }
}
