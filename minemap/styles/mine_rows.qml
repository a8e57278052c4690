<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- minemap: recorded mine rows (strips), dashed. -->
<qgis version="3.22.0" styleCategories="Symbology">
  <renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" enableorderby="0">
    <symbols>
      <symbol type="line" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" pass="0" locked="0" enabled="1">
          <prop k="line_color" v="227,26,28,255"/>
          <prop k="line_style" v="dash"/>
          <prop k="line_width" v="0.8"/>
          <prop k="line_width_unit" v="MM"/>
          <prop k="capstyle" v="flat"/>
          <prop k="joinstyle" v="bevel"/>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
</qgis>
