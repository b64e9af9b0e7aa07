// tb_noise_table: replays a `lpmc vectors noise --gen table:T` directory on
// lpmc_noise_table (ROM image: the directory's table.hex), comparing every noise code.
/* verilator lint_off WIDTH */
/* verilator lint_off BLKSEQ */
module tb_noise_table #(
  parameter integer T  = 8,
  parameter integer Wl = 8,
  parameter integer N  = 1,
  parameter Dir = "."
) (
  output reg        done_o,
  output reg [31:0] mismatches_o
);
  reg [T-1:0]  index_m [0:N-1];
  reg [Wl-1:0] noise_m [0:N-1];
  reg  [T-1:0]  index_r;
  wire [Wl-1:0] noise_w;

  lpmc_noise_table #(.T(T), .Wl(Wl), .TableFile({Dir, "/table.hex"})) dut (
    .index_i(index_r), .noise_o(noise_w)
  );

  integer i;
  initial begin
    done_o = 1'b0;
    mismatches_o = 0;
    $readmemh({Dir, "/index.hex"}, index_m);
    $readmemh({Dir, "/noise.hex"}, noise_m);
    for (i = 0; i < N; i = i + 1) begin
      index_r = index_m[i];
      #1;
      if (noise_w !== noise_m[i]) begin
        mismatches_o = mismatches_o + 1;
        if (mismatches_o <= 3)
          $display("%0s: vector %0d: index %h noise %h, expected %h",
                   Dir, i, index_r, noise_w, noise_m[i]);
      end
    end
    $display("%0s: %0d vectors, %0d mismatches", Dir, N, mismatches_o);
    done_o = 1'b1;
  end
endmodule
