namespace Parley.LoadGenerator;

/// <summary>The runtime setting the generator runs under and keeps away from the servers it measures (see Program.cs).</summary>
internal static class GeneratorTuning
{
    public const string Variable = "DOTNET_TC_CallCountingDelayMs";
}
