using System.CommandLine;
using Parley.Cli.Commands;

var root = new RootCommand("Parley: a secure chat server and terminal client")
{
    ServerCommand.Create(),
    UserCommand.Create(),
    ChatCommand.Create(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
