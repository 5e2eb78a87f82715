using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>The mix: which message a client sends next, and sending it.</summary>
internal sealed partial class SoakClient
{
    /// <summary>
    /// Relative weights of what a client does when it may do it. Messages between users dominate (CHAT while in a
    /// session, SAY while in a room, DM always); requests are a steady minority; PASSWD and LOG_OFF are rare, but at
    /// 20 messages a second a client still logs off about every 25 s and changes its password every few minutes.
    /// </summary>
    private static readonly (SoakKind Kind, double Weight)[] Weights =
    [
        (SoakKind.Chat, 200), (SoakKind.Say, 180), (SoakKind.Dm, 140), (SoakKind.ChatRequest, 40), (SoakKind.EndRequest, 15),
        (SoakKind.Talk, 30), (SoakKind.HistoryReq, 10), (SoakKind.ListReq, 40), (SoakKind.Join, 30), (SoakKind.Part, 20),
        (SoakKind.Rooms, 40), (SoakKind.KeysGet, 40), (SoakKind.LookupRequest, 40), (SoakKind.Listen, 10), (SoakKind.Ping, 40),
        (SoakKind.Passwd, 0.2), (SoakKind.LogOff, 2),
    ];

    private async Task ActAsync(SoakLink link, CancellationToken abort)
    {
        var session = _world.Board.Current(Index);
        var possible = Weights.Where(w => CanDo(w.Kind, link, session)).ToArray();

        // A kind nobody has sent yet goes first, once, so that a short run still covers them all (and a DM to a
        // user who is logged off, the offline queue's way in, §11.4).
        if (_random.NextDouble() < 0.5)
        {
            if (!_world.Counters.Claimed(SoakCounters.OfflineDmClaim) && OfflineUsers().Length > 0 && _world.Counters.TryClaimFirst(SoakCounters.OfflineDmClaim))
            {
                await SendDmAsync(link, preferOffline: true, abort).ConfigureAwait(false);
                return;
            }

            var fresh = possible.Where(w => !_world.Counters.Claimed((int)w.Kind)).ToArray();
            if (fresh.Length > 0 && fresh[_random.Next(fresh.Length)].Kind is var first && _world.Counters.TryClaimFirst((int)first))
            {
                await DoAsync(first, link, session, abort).ConfigureAwait(false);
                return;
            }
        }

        var roll = _random.NextDouble() * possible.Sum(w => w.Weight);
        foreach (var (kind, weight) in possible)
        {
            if ((roll -= weight) < 0)
            {
                await DoAsync(kind, link, session, abort).ConfigureAwait(false);
                return;
            }
        }
    }

    private bool CanDo(SoakKind kind, SoakLink link, SoakSession? session) => kind switch
    {
        SoakKind.Chat or SoakKind.EndRequest => session is { EndingBy: < 0 },
        SoakKind.ChatRequest => _world.Board.IsFree(Index),
        SoakKind.Join => link.RoomsToJoin().Length > 0,
        SoakKind.Say or SoakKind.Part => link.Rooms().Length > 0,
        SoakKind.LogOff => session is { EndingBy: < 0, Pins: 0 } || _world.Board.IsFree(Index),
        _ => true,
    };

    private async Task DoAsync(SoakKind kind, SoakLink link, SoakSession? session, CancellationToken abort)
    {
        switch (kind)
        {
            case SoakKind.ChatRequest:
                var target = Other();
                if (_world.Board.TryReserve(Index, target))
                {
                    await link.SendAsync(kind, new ChatRequest(_world.Ids[target]), abort).ConfigureAwait(false);
                }

                break;
            case SoakKind.Chat when session is not null && _world.Board.NextChat(Index, session) is var n and > 0:
                await link.SendAsync(kind, new Chat(session.Id, SoakBodies.Chat(session.Serial, Index, n)), abort).ConfigureAwait(false);
                break;
            case SoakKind.EndRequest when session is not null:
                // Three in ten end together with the peer, so the END_REQUESTs cross (§5.12).
                if (_world.Board.BeginEnd(Index, session, _random.NextDouble() < 0.3 ? EndMode.Cross : EndMode.End))
                {
                    await EndSessionAsync(link, session, abort).ConfigureAwait(false);
                }

                break;
            case SoakKind.Dm:
                await SendDmAsync(link, preferOffline: _random.NextDouble() < 0.3, abort).ConfigureAwait(false);
                break;
            case SoakKind.Talk:
                await TalkAsync(link, _world.Ids[Other()], 50, wait: false, abort).ConfigureAwait(false);
                break;
            case SoakKind.HistoryReq:
                await link.RequestAsync<HistoryEnd>(kind, new HistoryReq(_world.Ids[Other()]), new SoakLink.HistoryCollector(), wait: false, abort).ConfigureAwait(false);
                break;
            case SoakKind.ListReq:
                var onlineOnly = _random.NextDouble() < 0.5;
                await link.RequestAsync<ListResp>(kind, new ListReq(onlineOnly), onlineOnly, wait: false, abort).ConfigureAwait(false);
                break;
            case SoakKind.Join when Pick(link.RoomsToJoin()) is { } room:
                await link.JoinAsync(room, cancellationToken: abort).ConfigureAwait(false);
                break;
            case SoakKind.Part when Pick(link.Rooms()) is { } room:
                await link.PartAsync(room, abort).ConfigureAwait(false);
                break;
            case SoakKind.Say when Pick(link.Rooms()) is { } room:
                await link.SayAsync(room, ++_says, abort).ConfigureAwait(false);
                break;
            case SoakKind.Rooms:
                await link.RoomsAsync(wait: false, abort).ConfigureAwait(false);
                break;
            case SoakKind.KeysGet:
                await GetKeysAsync(link, abort).ConfigureAwait(false);
                break;
            case SoakKind.LookupRequest:
                await LookupAsync(link, abort).ConfigureAwait(false);
                break;
            case SoakKind.Listen:
                await link.SendAsync(kind, new Listen(ListenPort), abort).ConfigureAwait(false);
                break;
            case SoakKind.Ping:
                await link.SendAsync(kind, new Ping(), abort).ConfigureAwait(false);
                break;
            case SoakKind.Passwd:
                await ChangePasswordAsync(link, abort).ConfigureAwait(false);
                break;
            case SoakKind.LogOff:
                await LogOffAsync(link, abort).ConfigureAwait(false);
                break;
        }
    }

    private async Task SendDmAsync(SoakLink link, bool preferOffline, CancellationToken abort)
    {
        var offline = preferOffline ? OfflineUsers() : [];
        var to = offline.Length > 0 ? offline[_random.Next(offline.Length)] : Other();
        await link.DmAsync(to, ++_dmIds, abort).ConfigureAwait(false);
    }

    /// <summary>KEYS_GET for anyone, itself included: every soak user exists, and one whose key was published before the request has it current.</summary>
    private async Task GetKeysAsync(SoakLink link, CancellationToken abort)
    {
        var whom = Anyone();
        var published = _world.Clients[whom].Published;
        var keys = await link.Connection.GetKeysAsync(_world.Ids[whom], abort).ConfigureAwait(false);
        _world.Counters.Counted(SoakKind.KeysGet);
        if (!keys.Known || published && keys.Current != _world.Clients[whom].Fingerprint)
        {
            _world.Counters.CheckFailed(Id, "KEYS does not show the published key", $"{_world.Ids[whom]}: known {keys.Known}, current {keys.Current}");
        }
    }

    /// <summary>
    /// LOOKUP_REQUEST (seed 000). Of itself it must succeed with its own port and key (its LISTEN came first on this
    /// link, §5.1); of anyone else, a SUCCESS must name that user, their port and their key.
    /// </summary>
    private async Task LookupAsync(SoakLink link, CancellationToken abort)
    {
        var whom = Anyone();
        var reply = await link.Connection.LookupAsync(_world.Ids[whom], abort).ConfigureAwait(false);
        _world.Counters.Counted(SoakKind.LookupRequest);
        var peer = _world.Clients[whom];
        var right = reply.Status == LookupStatus.Success
            ? ClientIds.Comparer.Equals(reply.UserId, peer.Id) && reply.Port == peer.ListenPort && reply.Fingerprint == peer.Fingerprint
            : reply.Status == LookupStatus.NotFound && whom != Index;
        if (!right)
        {
            _world.Counters.CheckFailed(Id, "LOOKUP_REPLY wrong", $"{peer.Id}: {reply.Status} {reply.UserId} port {reply.Port}");
        }
    }

    /// <summary>PASSWD with the identity key re-wrapped under the new password (§12.4); the next log-on uses the new one.</summary>
    private async Task ChangePasswordAsync(SoakLink link, CancellationToken abort)
    {
        var next = $"{Hosting.ParleyServerHost.Password}-{Index}-{++_passwordChanges}";
        var backup = ToWire(await Task.Run(() => KeyBackup.Seal(_identity, Id, next), abort).ConfigureAwait(false));
        await link.RequestAsync<PasswdOk>(SoakKind.Passwd, null, () => link.Connection.ChangePasswordAsync(_password, next, backup, abort), wait: true, abort)
            .ConfigureAwait(false);
        _password = next;
        var old = _key;
        _key = new Client.PasswordKey(next);
        old.Dispose();
    }

    private int Other()
    {
        var other = _random.Next(_world.Ids.Length - 1);
        return other >= Index ? other + 1 : other;
    }

    /// <summary>Itself one time in five, else another user: the directory and the lookup are asked about oneself too.</summary>
    private int Anyone() => _random.NextDouble() < 0.2 ? Index : Other();

    private int[] OfflineUsers() => [.. Enumerable.Range(0, _world.Ids.Length).Where(i => i != Index && !_world.Online[i])];

    private string? Pick(string[] rooms) => rooms.Length == 0 ? null : rooms[_random.Next(rooms.Length)];
}
