using RollingUpgrade.LoadBalancers.HAProxy;
using RollingUpgrade.LoadBalancers.HAProxy.Runtime;

namespace RollingUpgrade.Tests;

public sealed class RuntimeParsingTests
{
    [Fact]
    public void Show_stat_is_read_by_column_name_not_position()
    {
        const string csv =
            "# svname,pxname,status,scur,qcur,uweight,econ,hrsp_5xx,\nej1,be_xmpp,DRAIN "
            + "1/2,3,1,1,2,5,\nBACKEND,be_xmpp,UP,3,0,2,0,0,\n\n";

        var table = StatTable.Parse(csv);

        var row = table.Server("be_xmpp", "ej1")!;
        row.Status.ShouldBe("DRAIN 1/2");
        row.Live.ShouldBe(4);
        row.Errors.ShouldBe(7);
        row.IsUp.ShouldBeTrue();
        table.HasBackend("be_xmpp").ShouldBeTrue();
    }

    [Fact]
    public void Show_stat_without_its_header_is_an_unexpected_answer() =>
        Should.Throw<RollingUpgrade.Ports.UnexpectedAnswerException>(() => StatTable.Parse("Permission denied\n"));

    [Fact]
    public void Show_servers_state_gives_the_admin_bits()
    {
        const string text =
            "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
            + "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
            + "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
            + "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n3 be_xmpp 1 ej1 127.0.0.11 0 8 1 1 12 "
            + "6 3 3 6 0 0 0 - 5222 - 0 0 - - 0\n3 be_xmpp 2 ej2 127.0.0.12 0 1 1 1 12 6 3 3 6 0 0 0 - 5222 - 0 0 "
            + "- - 0\n";

        var lines = ServerStateLine.Parse(text);

        lines[0].Drained.ShouldBeTrue();
        lines[0].InMaintenance.ShouldBeFalse();
        lines[1].InMaintenance.ShouldBeTrue();
    }

    [Fact]
    public void Show_sess_lines_are_matched_by_backend_and_server()
    {
        const string text =
            "0x55d1c2ad0a00: proto=tcpv4 src=127.0.0.1:43210 fe=fe_xmpp be=be_xmpp srv=ej1 ts=00 epoch=0 age=3s "
            + "calls=2\n0x55d1c2ad0b00: proto=tcpv4 src=127.0.0.1:43211 fe=fe_xmpp be=be_xmpp srv=ej2 ts=00 "
            + "epoch=0 age=3s calls=2\n0x55d1c2ad0c00: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> "
            + "ts=00\n";

        SessionList.For(text, "be_xmpp", "ej1").ShouldBe(["0x55d1c2ad0a00"]);
    }

    [Theory]
    [InlineData(1, 1, 10, 256, 28)]
    [InlineData(1, 1, 0, 256, 0)]
    [InlineData(1, 1, 100, 0, 256)]
    [InlineData(2, 2, 50, 256, 256)]
    [InlineData(3, 1, 50, 85, 256)]
    public void Traffic_share_becomes_weights_scaled_to_256(
        int blue,
        int green,
        int percent,
        int blueWeight,
        int greenWeight
    ) => TrafficWeights.PerServer(blue, green, percent).ShouldBe((blueWeight, greenWeight));
}
