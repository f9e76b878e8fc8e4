/* The Azure artefacts (render_azure.c): merging hosts into one route table, the checks between
 * hosts, route names, placeholders, and what each format says. Whole outputs are golden files
 * (tests/golden/test-azure.sh); here are the rules behind them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/azure/render_azure.h"
#include "core/config/validate.h"

#define MAX_HOSTS 4

struct fx {
        struct nr_config cfg[MAX_HOSTS];
        struct nr_diags parse[MAX_HOSTS], diags[MAX_HOSTS];
        struct nr_azure_host hosts[MAX_HOSTS];
        struct nr_azure_plan plan;
        size_t n;
        int r;
        char *out;
};

static struct fx F;

static int teardown(void **state)
{
        (void)state;
        for (size_t i = 0; i < F.n; i++) {
                cfg_free(&F.cfg[i]);
                diag_free(&F.parse[i]);
                diag_free(&F.diags[i]);
        }
        azure_plan_free(&F.plan);
        free(F.out);
        memset(&F, 0, sizeof(F));
        return 0;
}

#define TEST(f) cmocka_unit_test_teardown(f, teardown)

/* A valid host: guests SUBNET; LAN address LAN ("dhcp", "" for NAT only); then EXTRA lines. */
static void host(const char *file, const char *subnet, const char *lan, const char *extra)
{
        char text[2048];
        snprintf(text, sizeof(text),
                 "version: 1\nuplinks:\n  nat: {match: {name: eth0}, address: dhcp}\n%s%s%s"
                 "guests: {subnet: %s}\n%s",
                 lan[0] ? "  lan: {match: {name: eth1}, address: " : "", lan,
                 lan[0] ? ", routes: [172.16.0.0/22]}\n" : "", subnet, extra);
        size_t i = F.n++;
        assert_true(i < MAX_HOSTS);
        int r = cfg_parse(file, text, strlen(text), &F.cfg[i], &F.parse[i]);
        if (r >= 0)
                r = cfg_validate(&F.cfg[i], &F.parse[i]);
        if (r < 0 || F.parse[i].n_errors) {
                for (size_t k = 0; k < F.parse[i].n; k++)
                        print_message("%s: %s: %s\n", file, F.parse[i].v[k].path,
                                      F.parse[i].v[k].msg);
                fail_msg("fixture %s does not validate", file);
        }
        F.hosts[i] = (struct nr_azure_host){&F.cfg[i], file};
}

static int build(void)
{
        F.r = azure_plan_build(F.hosts, F.n, &F.plan, F.diags);
        return F.r;
}

static const char *render(enum nr_azure_format f)
{
        free(F.out);
        F.out = render_azure_routes(&F.plan, f);
        assert_non_null(F.out);
        return F.out;
}

static const char *render_remove(void)
{
        free(F.out);
        F.out = render_azure_remove(&F.plan);
        assert_non_null(F.out);
        return F.out;
}

static void expect_in(const char *hay, const char *needle)
{
        if (!strstr(hay, needle))
                fail_msg("missing \"%s\" in:\n%s", needle, hay);
}

static void expect_not_in(const char *hay, const char *needle)
{
        if (strstr(hay, needle))
                fail_msg("unexpected \"%s\" in:\n%s", needle, hay);
}

/* host i has an error at `path` whose message contains `needle` */
static void expect_error(size_t i, const char *path, const char *needle)
{
        for (size_t k = 0; k < F.diags[i].n; k++)
                if (!strcmp(F.diags[i].v[k].path, path) && strstr(F.diags[i].v[k].msg, needle) &&
                    F.diags[i].v[k].sev == NR_SEV_ERROR)
                        return;
        for (size_t k = 0; k < F.diags[i].n; k++)
                print_message("  %s: %s\n", F.diags[i].v[k].path, F.diags[i].v[k].msg);
        fail_msg("host %zu: no error at %s containing \"%s\"", i, path, needle);
}

static void test_route_names(void **state)
{
        (void)state;
        host("/etc/nestrouter/host1.yaml", "10.0.2.0/26", "10.0.1.4/24", "");
        host("hosts/my host (2).yml", "10.0.2.64/26", "10.0.1.5/24", "");
        host("b.conf", "10.0.2.128/26", "10.0.1.6/24", "azure: {vm_name: vm(x)}\n");
        host("--.yaml", "10.0.2.192/26", "10.0.1.7/24", "");
        assert_int_equal(build(), 0);
        assert_string_equal(F.plan.routes[0].name, "host1");
        assert_string_equal(F.plan.routes[1].name, "my-host--2");
        assert_string_equal(F.plan.routes[2].name, "vm-x");
        assert_string_equal(F.plan.routes[3].name, "nestrouter");
}

static void test_route_name_clash(void **state)
{
        (void)state;
        host("a/nestrouter.yaml", "10.0.2.0/25", "10.0.1.4/24", "");
        host("b/nestrouter.yaml", "10.0.2.128/25", "10.0.1.5/24", "");
        assert_int_equal(build(), -EINVAL);
        expect_error(1, "azure.vm_name", "route name 'nestrouter' (from the file name) is also "
                                         "a/nestrouter.yaml's");
        assert_int_equal(F.diags[0].n, 0);
        teardown(NULL);
        host("a.yaml", "10.0.2.0/25", "10.0.1.4/24", "azure: {vm_name: HOST1}\n");
        host("b.yaml", "10.0.2.128/25", "10.0.1.5/24", "azure: {vm_name: host1}\n");
        assert_int_equal(build(), -EINVAL); /* Azure names ignore case */
        expect_error(1, "azure.vm_name", "'host1' is also a.yaml's");
}

static void test_host_overlaps(void **state)
{
        (void)state;
        host("a.yaml", "10.0.2.0/24", "10.0.1.4/24", "azure: {lan_nic: nic2}\n");
        host("b.yaml", "10.0.2.128/25", "10.0.1.4/24", "azure: {lan_nic: NIC2}\n");
        host("c.yaml", "10.0.1.0/25", "10.0.3.4/24", ""); /* guests inside a's LAN subnet */
        assert_int_equal(build(), -EINVAL);
        expect_error(1, "guests.subnet", "10.0.2.128/25 overlaps a.yaml's guest subnet 10.0.2.0/24");
        expect_error(1, "uplinks.lan.address", "10.0.1.4 is also a.yaml's NIC2 address");
        expect_error(1, "azure.lan_nic", "NIC NIC2 is also a.yaml's NIC2");
        expect_error(2, "guests.subnet", "10.0.1.0/25 overlaps a.yaml's lan subnet 10.0.1.0/24");
        expect_error(2, "guests.subnet", "overlaps b.yaml's lan subnet 10.0.1.0/24");
        teardown(NULL);
        /* the other direction: a's LAN subnet holds b's guests, reported at b's address */
        host("a.yaml", "10.0.5.0/24", "10.0.1.4/24", "");
        host("b.yaml", "10.0.1.128/25", "10.0.4.4/24", "");
        assert_int_equal(build(), -EINVAL);
        expect_error(1, "guests.subnet", "overlaps a.yaml's lan subnet 10.0.1.0/24");
}

static void test_merge_names(void **state)
{
        (void)state;
        host("a.yaml", "10.0.2.0/25", "10.0.1.4/24",
             "azure: {resource_group: rg, vnet: v, subnets: [Azure-VMs, GatewaySubnet]}\n");
        host("b.yaml", "10.0.2.128/25", "dhcp", "");
        host("c.yaml", "10.0.3.0/25", "10.0.1.6/24",
             "azure: {resource_group: RG, location: westeurope, subnets: [azure-vms, Apps]}\n");
        assert_int_equal(build(), 0);
        assert_true(F.plan.named);
        assert_string_equal(F.plan.resource_group, "rg"); /* first one, case ignored */
        assert_string_equal(F.plan.location, "westeurope");
        assert_string_equal(F.plan.vnet, "v");
        assert_string_equal(F.plan.route_table, "");
        assert_true(F.plan.gateway_subnet);
        assert_int_equal(F.plan.n_subnets, 2); /* GatewaySubnet on its own, azure-vms = Azure-VMs */
        assert_string_equal(F.plan.subnets[0], "Azure-VMs");
        assert_string_equal(F.plan.subnets[1], "Apps");
        assert_int_equal(F.plan.n_lan, 3);
        assert_false(F.plan.routes[1].next_hop_known);
}

static void test_merge_conflicts(void **state)
{
        (void)state;
        host("a.yaml", "10.0.2.0/25", "10.0.1.4/24",
             "azure: {route_table: rt1, gateway_subnet: false}\n");
        host("b.yaml", "10.0.2.128/25", "10.0.1.5/24", "azure: {route_table: rt2}\n");
        assert_int_equal(build(), -EINVAL);
        expect_error(1, "azure.route_table", "'rt2' differs from a.yaml's 'rt1'");
        expect_error(1, "azure.gateway_subnet", "true differs from a.yaml's false");
}

static void test_az_placeholders(void **state)
{
        (void)state;
        host("a.yaml", "10.0.2.0/25", "10.0.1.4/24", "");
        host("b.yaml", "10.0.2.128/25", "dhcp", "");
        assert_int_equal(build(), 0);
        const char *s = render(NR_AZURE_FORMAT_AZ);
        expect_in(s, "#!/usr/bin/env bash\n");
        expect_in(s, "\nset -euo pipefail\n");
        expect_in(s, "RG='<resource group>'\n");
        expect_in(s, "ROUTE_TABLE='" NR_AZURE_DEFAULT_ROUTE_TABLE "'\n");
        expect_in(s, "NEXT_HOP_1='10.0.1.4'\n");
        expect_in(s, "NEXT_HOP_2='<LAN address of b>'  # uplinks.lan.address is dhcp\n");
        expect_in(s, "NIC2_2='<NIC2 of b>'\n");
        expect_in(s, "need RG \"$RG\"\nneed VNET \"$VNET\"\nneed SUBNET_1 \"$SUBNET_1\"\n"
                     "need NIC2_1 \"$NIC2_1\"\nneed NEXT_HOP_2 \"$NEXT_HOP_2\"\n"
                     "need NIC2_2 \"$NIC2_2\"\n");
        expect_in(s, "--next-hop-type VirtualAppliance");
        expect_in(s, "associate \"$GATEWAY_SUBNET\"");
        expect_in(s, "az network nic update -g \"$RG\" -n \"$NIC2_2\" --ip-forwarding true");
        /* the table is created only when missing: create on an existing one drops its routes */
        expect_in(s, "if ! az network route-table show");
}

static void test_az_complete_names(void **state)
{
        (void)state;
        host("a.yaml", "10.0.2.0/24", "10.0.1.4/24",
             "azure: {resource_group: rg, vnet: v, subnets: [], gateway_subnet: false, "
             "lan_nic: n2}\n");
        assert_int_equal(build(), 0);
        const char *s = render(NR_AZURE_FORMAT_AZ);
        expect_not_in(s, "need ");
        expect_not_in(s, "<");
        expect_not_in(s, "GATEWAY_SUBNET=");
        expect_not_in(s, "associate \"");
        expect_in(s, "# GatewaySubnet is left out (azure.gateway_subnet: false).\n");
        expect_in(s, "LOCATION=''");
}

static void test_nat_only(void **state)
{
        (void)state;
        host("lab.yaml", "192.168.0.0/24", "", "");
        assert_int_equal(build(), 0);
        assert_int_equal(F.plan.n_lan, 0);
        const char *s = render(NR_AZURE_FORMAT_AZ);
        expect_in(s, "Host lab (lab.yaml): NAT only (no LAN uplink): no route, no IP forwarding");
        expect_not_in(s, "az network");
        s = render(NR_AZURE_FORMAT_ARM);
        expect_in(s, "\"resources\": []");
        expect_not_in(s, "associate");
        s = render(NR_AZURE_FORMAT_BICEP);
        expect_not_in(s, "resource ");
        s = render_remove();
        expect_in(s, "Nothing to remove in Azure");
        expect_not_in(s, "az network");
}

static void test_mixed_nat_only(void **state)
{
        (void)state;
        host("lab.yaml", "192.168.0.0/24", "", "");
        host("full.yaml", "10.0.2.0/24", "10.0.1.4/24", "");
        assert_int_equal(build(), 0);
        const char *s = render(NR_AZURE_FORMAT_AZ);
        expect_not_in(s, "ROUTE_1=");
        expect_in(s, "ROUTE_2='full'\n");
        s = render(NR_AZURE_FORMAT_ARM);
        expect_in(s, "\"Host lab (lab.yaml): NAT only (no LAN uplink): no route, no IP "
                     "forwarding.\"");
        expect_in(s, "\"name\": \"full\"");
}

static void test_arm_and_bicep_parameters(void **state)
{
        (void)state;
        host("a.yaml", "10.0.2.0/25", "10.0.1.4/24", "azure: {location: northeurope}\n");
        host("b.yaml", "10.0.2.128/25", "dhcp", "");
        assert_int_equal(build(), 0);
        const char *s = render(NR_AZURE_FORMAT_ARM);
        expect_in(s, "\"defaultValue\": \"northeurope\"");
        expect_in(s, "\"nextHop2\": {\n      \"type\": \"string\",\n");
        expect_in(s, "\"nextHopIpAddress\": \"[parameters('nextHop2')]\"");
        expect_in(s, "\"nextHopIpAddress\": \"10.0.1.4\"");
        expect_not_in(s, "nextHop1");
        expect_in(s, "\"disableBgpRoutePropagation\": false");
        s = render(NR_AZURE_FORMAT_BICEP);
        expect_in(s, "param location string = 'northeurope'\n");
        expect_in(s, "param nextHop2 string\n");
        expect_in(s, "nextHopIpAddress: nextHop2\n");
        expect_in(s, "@description('NIC2\\'s private IP address of b (b.yaml uses address: "
                     "dhcp)')");
}

static void test_untrusted_file_names(void **state)
{
        (void)state;
        host("evil\nrm -rf x'\".yaml", "10.0.2.0/24", "10.0.1.4/24", "");
        assert_int_equal(build(), 0);
        assert_string_equal(F.plan.routes[0].name, "evil-rm--rf-x");
        const char *s = render(NR_AZURE_FORMAT_AZ);
        expect_in(s, "(evil?rm -rf x'\".yaml)"); /* a comment stays one line */
        expect_not_in(s, "\nrm -rf");
        s = render(NR_AZURE_FORMAT_ARM);
        expect_in(s, "\"sources\": [\"evil\\nrm -rf x'\\\".yaml\"]");
        s = render(NR_AZURE_FORMAT_BICEP);
        expect_not_in(s, "\nrm -rf");
}

static void test_remove(void **state)
{
        (void)state;
        host("h.yaml", "10.0.2.0/24", "dhcp", "azure: {resource_group: rg, route_table: rt}\n");
        assert_int_equal(build(), 0);
        const char *s = render_remove();
        expect_in(s, "RG='rg'\nROUTE_TABLE='rt'\nROUTE='h'\n");
        expect_not_in(s, "need ");
        expect_in(s, "az network route-table route delete -g \"$RG\" --route-table-name "
                     "\"$ROUTE_TABLE\" -n \"$ROUTE\"");
        expect_in(s, "az network vnet subnet update --ids \"$id\" --remove routeTable -o none");
        expect_not_in(s, "--route-table null -o none");
        expect_in(s, "az network route-table delete");
        expect_in(s, "NIC2's IP forwarding stays on");
        expect_not_in(s, "--ip-forwarding");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TEST(test_route_names),
                TEST(test_route_name_clash),
                TEST(test_host_overlaps),
                TEST(test_merge_names),
                TEST(test_merge_conflicts),
                TEST(test_az_placeholders),
                TEST(test_az_complete_names),
                TEST(test_nat_only),
                TEST(test_mixed_nat_only),
                TEST(test_arm_and_bicep_parameters),
                TEST(test_untrusted_file_names),
                TEST(test_remove),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
