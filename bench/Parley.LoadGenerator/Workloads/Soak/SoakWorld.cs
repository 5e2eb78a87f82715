using Parley.Client;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>What every client of one soak run shares: the users, how to reach the server, the board and the ledgers.</summary>
internal sealed class SoakWorld
{
    public SoakWorld(SoakParameters parameters, ParleyClientOptions options)
    {
        Parameters = parameters;
        Options = options;
        Ids = parameters.UserIds();
        Counters = new SoakCounters();
        Board = new SessionBoard(Ids, Counters);
        Dms = new DmLedger(Counters, Ids);
        Rooms = new RoomLedger(Counters, Ids);
    }

    /// <summary>The rooms the mix joins, parts and says things in; everyone starts in the seeds' <c>#lobby</c> (§11.10).</summary>
    public static readonly string[] RoomNames = [Parley.Protocol.Rooms.Default, "#soak1", "#soak2", "#soak3"];

    public SoakParameters Parameters { get; }

    public ParleyClientOptions Options { get; }

    public string[] Ids { get; }

    public SoakCounters Counters { get; }

    public SessionBoard Board { get; }

    public DmLedger Dms { get; }

    public RoomLedger Rooms { get; }

    /// <summary>Every client, by index (set once they are made).</summary>
    public SoakClient[] Clients { get; set; } = [];

    /// <summary>Whether each client is logged on now, as its own actor last set it (the mix prefers offline DM recipients).</summary>
    public bool[] Online { get; private set; } = [];

    public void Start() => Online = new bool[Ids.Length];
}
